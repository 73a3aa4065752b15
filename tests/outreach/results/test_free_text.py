"""Free-text results: the answers to each text question read from the store, scrubbed of personal data,
grouped by shared words with counts and examples; questions of other types are not there."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import col

from flows.loader import load_campaign
from outreach.bootstrap import Services
from outreach.campaigns.commands import create_campaign
from outreach.results.free_text import EXAMPLE_LENGTH, free_text_results
from storage.tables import CampaignRecord, Resident, Response

CAMPAIGN = """
name: Park — pomysły
languages: [pl, uk]
channels: [sms]
questions:
  - {id: rating, type: scale, min: 1, max: 5, text: {pl: "Ocena?", uk: "Оцінка?"}}
  - {id: idea, type: text, text: {pl: "Co zmienić?", uk: "Що змінити?"}}
  - {id: other, type: text, text: {pl: "Coś jeszcze?", uk: "Ще щось?"}}
"""

IDEAS: list[tuple[str, str | None]] = [
    ("pl", "Więcej ławek, zadzwońcie 600 100 200"),
    ("pl", "ławki są połamane, pisz: jan@example.com"),
    ("pl", "x" * 300 + " ławka"),
    ("pl", "nowe ławkach przy stawie"),
    ("pl", "lawki"),
    ("pl", "oświetlenie alejek, mój PESEL 44051401359"),
    ("uk", "освітлення алеї"),
    ("pl", "lepsze oświetlenia, licznik 44051401358"),
    ("pl", None),  # asked, never answered
]


async def answered(services: Services) -> CampaignRecord:
    record = await create_campaign(services.sessions, load_campaign(CAMPAIGN), clock=services.clock)
    now = datetime(2027, 3, 2, 12, 0, tzinfo=UTC)
    async with services.sessions() as session, session.begin():
        people: list[dict[str, Any]] = [
            {
                "pseudonym": f"ft{index:04d}",
                "language": language,
                "attributes": {},
                "created_at": now,
                "updated_at": now,
            }
            for index, (language, _) in enumerate(IDEAS)
        ]
        ids = list((await session.execute(insert(Resident).returning(col(Resident.id)), people)).scalars())
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
                    "language": language,
                    "attributes": {},
                }
                for resident_id, (language, idea) in zip(ids, IDEAS, strict=True)
                for question, value in (("rating", 4), ("idea", idea))
            ],
        )
    return record


async def test_text_answers_are_grouped_by_shared_words_with_personal_data_masked(services: Services) -> None:
    record = await answered(services)
    idea, other = await free_text_results(services.sessions, record, services.definitions.flow(record))
    assert (other.id, other.answered, other.groups, other.ungrouped) == ("other", 0, [], 0)
    assert idea.id == "idea" and idea.answered == 8
    benches, lighting = idea.groups
    assert (benches.word, benches.count, benches.forms) == ("ławki", 4, ["ławka", "ławkach", "lawki"])
    # Three examples, in the order given; a long answer is cut to its gist.
    assert benches.examples == [
        "ławki są połamane, pisz: [email]",
        "x" * (EXAMPLE_LENGTH - 1) + "…",
        "nowe ławkach przy stawie",
    ]
    assert (lighting.word, lighting.count) == ("oświetlenie", 2)
    # The PESEL is masked; eleven digits whose checksum fails are an ordinary number and stay.
    assert lighting.examples == ["oświetlenie alejek, mój PESEL [PESEL]", "lepsze oświetlenia, licznik 44051401358"]
    assert idea.ungrouped == 2
    assert idea.ungrouped_examples == ["Więcej ławek, zadzwońcie [phone]", "освітлення алеї"]
