"""Unweighted results counted in SQL per question and answer: counts, numbers as frequencies (mean,
median, smallest, largest), answers never given, respondents and residents asked."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlmodel import col

from flows.answer_labels import question_types
from flows.loader import load_campaign
from outreach.bootstrap import Services
from outreach.campaigns.commands import create_campaign
from storage.address_keys import address_keys
from storage.db import read_session
from storage.read_models import QuestionResult, campaign_results
from storage.tables import ContactAddress, Conversation, Resident, Response
from tests.outreach.results.weighted_fixture import NOW

CAMPAIGN = """
name: Counted
languages: [pl]
channels: [sms]
questions:
  - {id: rating, type: scale, min: 1, max: 5, text: {pl: "Ocena?"}, low: {pl: źle}, high: {pl: dobrze}}
  - {id: age, type: number, text: {pl: "Ile lat?"}}
  - id: wishes
    type: multi
    text: {pl: "Co dodać?"}
    options:
      - {key: benches, text: {pl: ławki}}
      - {key: trees, text: {pl: drzewa}}
  - {id: idea, type: text, text: {pl: "Co zmienić?"}}
"""

# Per resident: rating, age, wishes, idea (None: asked, never answered). The fifth was asked only.
ANSWERS: list[tuple[Any, Any, Any, Any]] = [
    (1, 30, ["benches"], "ławki"),
    (2, 45, ["benches", "trees"], None),
    (2, 45, None, "drzewa"),
    (4, 71.5, ["trees"], "ławki"),
    (None, None, None, None),
]


async def test_results_count_each_answer_once_from_grouped_rows(services: Services) -> None:
    flow = load_campaign(CAMPAIGN)
    record = await create_campaign(services.sessions, flow, clock=services.clock)
    assert record.id is not None
    async with services.sessions() as session, session.begin():
        people = [
            {"pseudonym": f"c{n}", "language": "pl", "attributes": {}, "created_at": NOW, "updated_at": NOW}
            for n in range(6)
        ]
        ids = list((await session.execute(insert(Resident).returning(col(Resident.id)), people)).scalars())
        addresses = [
            {"resident_id": rid, "channel": "sms", **address_keys(session).columns("sms", f"+4860020000{n}")}
            | {"created_at": NOW}
            for n, rid in enumerate(ids)
        ]
        contacts = list(
            (await session.execute(insert(ContactAddress).returning(col(ContactAddress.id)), addresses)).scalars()
        )
        await session.execute(
            insert(Conversation),
            [
                {
                    "campaign_id": record.id,
                    "resident_id": rid,
                    "contact_id": contact,
                    "respondent": f"r{rid}",
                    "state": {},
                    "status": "active",
                    "started_at": NOW,
                    "updated_at": NOW,
                    "asked_at": NOW if n < 5 else None,  # the sixth waits for their address: not asked
                }
                for n, (rid, contact) in enumerate(zip(ids, contacts, strict=True))
            ],
        )
        await session.execute(
            insert(Response),
            [
                {
                    "campaign_id": record.id,
                    "question_id": question,
                    "resident_id": rid,
                    "respondent": f"r{rid}",
                    "value": value,
                    "channel": "sms",
                    "answered_at": NOW,
                    "language": "pl",
                    "attributes": {},
                }
                for rid, values in zip(ids, ANSWERS, strict=False)
                for question, value in zip(("rating", "age", "wishes", "idea"), values, strict=True)
            ],
        )
    async with read_session(services.sessions) as session:
        results = await campaign_results(session, record.id, question_types(flow))
    assert (results.contacted, results.respondents, results.response_rate) == (5, 4, 0.8)
    rating, age, wishes, idea = (results.questions[name] for name in ("rating", "age", "wishes", "idea"))
    assert (rating.answered, rating.unanswered, dict(rating.counts)) == (4, 1, {"1": 1, "2": 2, "4": 1})
    assert (rating.mean(), rating.median(), rating.smallest(), rating.largest()) == (2.25, 2.0, 1.0, 4.0)
    assert (age.answered, dict(age.counts), dict(age.numbers)) == (4, {}, {30.0: 1, 45.0: 2, 71.5: 1})
    assert (age.mean(), age.median()) == (47.875, 45.0)
    assert (wishes.answered, wishes.unanswered, dict(wishes.counts)) == (3, 2, {"benches": 2, "trees": 2})
    assert (idea.answered, idea.unanswered, dict(idea.counts), idea.mean()) == (3, 2, {}, None)


def test_the_median_of_an_even_count_is_the_mean_of_the_middle_two() -> None:
    result = QuestionResult("q")
    for value, times in ((1, 2), (3, 1), (10, 1)):
        result.count("number", value, times)
    assert (result.answered, result.median(), result.mean()) == (4, 2.0, 3.75)  # 1, 1, 3, 10
    result.count("number", 3)
    assert result.median() == 3.0  # 1, 1, 3, 3, 10
    assert QuestionResult("empty").median() is None
