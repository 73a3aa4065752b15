"""The meter counted in SQL (storage.meter_counts) is the meter counted in Python (the definition,
outreach.participation.meter.count_participations, over every participation read one by one), on a
seeded random history on both backends: channels and districts that change within a campaign (the
earliest answer's count), missing districts and sources, unanswered questions, erased residents, and
residents whose first answers to two campaigns came at the same moment (the lower campaign id is first)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlmodel import col

from outreach.bootstrap import Services
from outreach.participation.meter import Participation, count_participations, first_participations
from storage.db import read_session
from storage.meter_counts import MeterCounts, campaign_counts, range_counts
from storage.participation import participations
from storage.tables import CampaignRecord, Resident, Response

START = datetime(2027, 1, 5, 9, 0, tzinfo=UTC)
CAMPAIGNS = 5
RESIDENTS = 80
QUESTIONS = ("q1", "q2", "q3")


async def random_history(services: Services, seed: int) -> list[int]:
    """Campaign ids, in launch order, of a random history of RESIDENTS residents."""
    rng = random.Random(seed)
    async with services.sessions() as session, session.begin():
        records = [
            CampaignRecord(
                slug=f"c{number}",
                name=f"Campaign {number}",
                definition={},
                status="closed",
                created_at=START,
                launched_at=START + timedelta(days=number),
            )
            for number in range(CAMPAIGNS)
        ]
        session.add_all(records)
        await session.flush()
        campaign_ids = [record.id for record in records if record.id is not None]
        people: list[dict[str, Any]] = [
            {
                "pseudonym": f"rand{number:04d}",
                "language": "pl",
                "attributes": {},
                "created_at": START,
                "updated_at": START,
                "erased_at": START if rng.random() < 0.05 else None,  # an erasure's stand-in
            }
            for number in range(RESIDENTS)
        ]
        resident_ids = list((await session.execute(insert(Resident).returning(col(Resident.id)), people)).scalars())
        answers: list[dict[str, Any]] = []
        for resident_id in resident_ids:
            for campaign_id in rng.sample(campaign_ids, rng.randint(1, CAMPAIGNS)):
                # Few starting hours, the same for every campaign: first answers to two campaigns often tie.
                started = START + timedelta(hours=rng.randrange(4))
                for minute, question in enumerate(rng.sample(QUESTIONS, rng.randint(1, len(QUESTIONS)))):
                    attributes: dict[str, Any] = {}
                    if rng.random() < 0.8:
                        attributes["district"] = rng.choice(["Oliwa", "Osowa", "Wrzeszcz"])
                    if rng.random() < 0.7:
                        attributes["recruitment_source"] = rng.choice(["register", "qr-bus-12"])
                    answers.append(
                        {
                            "campaign_id": campaign_id,
                            "question_id": question,
                            "resident_id": resident_id,
                            "respondent": f"r{resident_id}-{campaign_id}",
                            "value": None if rng.random() < 0.15 else "yes",  # None: asked, never answered
                            "channel": rng.choice(["sms", "telegram"]),
                            "answered_at": started + timedelta(minutes=minute),
                            "language": "pl",
                            "attributes": attributes,
                        }
                    )
        await session.execute(insert(Response), answers)
    return campaign_ids


async def history(services: Services, respondents_of: int | None = None) -> list[Participation]:
    async with read_session(services.sessions) as session:
        rows = await participations(session, respondents_of=respondents_of)
    return [
        Participation(
            row.resident_id, row.campaign_id, row.answered_at, row.channel, row.district, row.recruitment_source
        )
        for row in rows
    ]


async def test_the_counts_over_a_range_are_the_python_definitions(services: Services) -> None:
    campaign_ids = await random_history(services, seed=17)
    everything = await history(services)
    measured = campaign_ids[1:4]
    scope = [p for p in everything if p.campaign_id in measured]
    expected = count_participations(scope, first_participations(everything), measured)
    async with read_session(services.sessions) as session:
        counted = await range_counts(session, measured)
    assert counted == expected
    # The history is varied enough to pin something: returning respondents, groups of every split.
    assert any(n.first_timers < n.respondents for n in counted.campaigns.values())
    assert {split for split, _ in counted.groups} == {"channel", "district", "recruitment_source"}
    assert ("district", None) in counted.groups and max(counted.answered) > 1


async def test_a_campaigns_counts_are_the_python_definitions(services: Services) -> None:
    campaign_ids = await random_history(services, seed=23)
    for campaign_id in campaign_ids:
        mine = await history(services, respondents_of=campaign_id)
        last = max(p.answered_at for p in mine if p.campaign_id == campaign_id)
        # Its respondents' participations up to it: a later campaign must not change how it reads.
        scope = [p for p in mine if p.answered_at <= last]
        expected = count_participations(scope, first_participations(mine), [campaign_id])
        async with read_session(services.sessions) as session:
            counted = await campaign_counts(session, campaign_id)
        assert counted == expected, campaign_id


async def test_no_answers_count_nothing(services: Services) -> None:
    async with read_session(services.sessions) as session:
        assert await range_counts(session, [1, 2]) == MeterCounts()
        assert await campaign_counts(session, 1) == MeterCounts()
