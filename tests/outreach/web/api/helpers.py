"""Test helpers of the API: settings with its knobs, an injected monotonic clock, tokens, seeded answers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlmodel import col

from flows.loader import load_campaign
from outreach.bootstrap import Services
from outreach.campaigns.commands import create_campaign
from outreach.web.api.auth import issue_token
from storage.commit_order import finished_below, writing_transaction
from storage.tables import Resident, Response
from tests.factories import add_resident
from tests.outreach.helpers import launch, reply
from tests.scenarios.waiting import eventually


class Monotonic:
    """The rate limiter's clock, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


async def token(services: Services, *scopes: str, campaign_id: int | None = None) -> str:
    issued = await issue_token(
        services.sessions, scopes=list(scopes), label="test", now=services.clock(), campaign_id=campaign_id
    )
    return issued.token


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


async def auth(services: Services, *scopes: str, campaign_id: int | None = None) -> dict[str, str]:
    return bearer(await token(services, *scopes, campaign_id=campaign_id))


SURVEY_YAML = """
name: Park Oruński
languages: [pl, en]
channels: [sms, email]
intro: {pl: "Miasto Gdańsk pyta o park.", en: "The City of Gdańsk asks about the park."}
questions:
  - id: visits
    type: choice
    text: {pl: "Jak często bywasz w parku?", en: "How often do you visit the park?"}
    options:
      - {key: weekly, text: {pl: co tydzień, en: every week}}
      - {key: never, text: {pl: wcale, en: never}}
  - id: rating
    type: scale
    min: 1
    max: 5
    text: {pl: "Oceń park od 1 do 5", en: "Rate the park from 1 to 5"}
    low: {pl: źle, en: bad}
    high: {pl: świetnie, en: great}
  - id: idea
    type: text
    text: {pl: "Co zmienić?", en: "What should change?"}
outro: {pl: "Dziękujemy!", en: "Thank you!"}
"""

# phone, language, district, replies (to visits, rating, idea)
PEOPLE: list[tuple[str, str, str, tuple[str, ...]]] = [
    ("+48600100201", "pl", "Orunia", ("1", "5", "więcej ławek")),
    ("+48600100202", "en", "Orunia", ("2", "3", "more benches")),
    ("+48600100203", "pl", "Wrzeszcz", ("1", "4", "nic")),
]


async def seeded_survey(services: Services) -> int:
    """A launched campaign that three residents answered in full; returns its id."""
    for phone, language, district, _ in PEOPLE:
        await add_resident(services, phone=phone, language=language, district=district, age_band="30-44")
    campaign_id = await launch(services, SURVEY_YAML)
    for phone, _, _, replies in PEOPLE:
        for text in replies:
            await reply(services, phone, text)
    await past_the_horizon(services)
    return campaign_id


async def past_the_horizon(services: Services) -> None:
    """Until every write so far is below the finished-transaction horizon, so the answer feed hands it
    out (storage.commit_order). On PostgreSQL any transaction open on the server holds the horizon back,
    another pytest-xdist worker's in its own database too: a CI run once read an empty page right after
    seeding. Bounded; at once on SQLite."""
    dialect = services.engine.dialect.name
    if dialect != "postgresql":
        return
    async with services.sessions() as session, session.begin():
        written = int((await session.execute(select(writing_transaction()))).scalar_one())

    async def past() -> bool:
        async with services.sessions() as session:
            return int((await session.execute(select(finished_below(dialect)))).scalar_one()) > written

    await eventually(past, within=60)


async def bulk_answers(services: Services, campaign_id: int, residents: int, *, first: int = 0) -> None:
    """Residents who answered `visits` and `idea`, written in bulk (two answers each)."""
    now = datetime(2027, 3, 2, 12, 0, tzinfo=UTC)
    async with services.sessions() as session, session.begin():
        resident_rows: list[dict[str, Any]] = [
            {
                "pseudonym": f"bulk{first + index:08d}",
                "language": "pl",
                "attributes": {"district": "Orunia" if index % 2 else "Wrzeszcz"},
                "created_at": now,
                "updated_at": now,
            }
            for index in range(residents)
        ]
        ids = list((await session.execute(insert(Resident).returning(col(Resident.id)), resident_rows)).scalars())
        attributes_of = {resident_id: row["attributes"] for resident_id, row in zip(ids, resident_rows, strict=True)}
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            await session.execute(
                insert(Response),
                [
                    {
                        "campaign_id": campaign_id,
                        "question_id": question,
                        "resident_id": resident_id,
                        "respondent": f"p{resident_id:020d}",
                        "value": value,
                        "channel": "sms",
                        "answered_at": now,
                        "language": "pl",
                        "attributes": attributes_of[resident_id],
                    }
                    for resident_id in chunk
                    for question, value in (("visits", "weekly"), ("idea", "Więcej drzew, ławek i koszy"))
                ],
            )
    await past_the_horizon(services)


async def draft(services: Services, yaml_text: str = SURVEY_YAML) -> int:
    """A campaign stored as a draft (cheap: no residents, no launch); returns its id."""
    record = await create_campaign(services.sessions, load_campaign(yaml_text), clock=services.clock)
    assert record.id is not None
    return record.id
