"""Answers keep the inclusion probability their respondent was drawn with (revision 0014), so that
weighted results group answers alone."""

from __future__ import annotations

from sqlmodel import col, select

from flows.loader import load_campaign
from outreach.bootstrap import Services
from outreach.campaigns.commands import create_campaign
from storage.responses import ResponseRepository
from storage.tables import CampaignSample, Response, SampledResident
from tests.factories import add_resident
from tests.outreach.results.weighted_fixture import CAMPAIGN


async def test_an_answer_stores_its_respondents_inclusion_probability(services: Services) -> None:
    record = await create_campaign(services.sessions, load_campaign(CAMPAIGN), clock=services.clock)
    drawn = await add_resident(services, phone="+48600100001", district="Oliwa")
    other = await add_resident(services, phone="+48600100002", district="Osowa")
    assert record.id is not None and drawn.id is not None and other.id is not None
    async with services.sessions() as session, session.begin():
        session.add(CampaignSample(campaign_id=record.id, seed=1, size=1, drawn_at=services.clock()))
        await session.flush()
        session.add(
            SampledResident(campaign_id=record.id, resident_id=drawn.id, stratum="oliwa", inclusion_probability=0.25)
        )
    async with services.sessions() as session, session.begin():
        for resident_id in (drawn.id, other.id):
            assert await ResponseRepository(session).record_once(
                campaign_id=record.id,
                question_id="visits",
                resident_id=resident_id,
                respondent=f"r{resident_id}",
                value="yes",
                channel="sms",
                inbound_event_id=None,
                answered_at=services.clock(),
                language="pl",
                attributes={},
            )
    async with services.sessions() as session:
        stored = dict(
            (await session.execute(select(col(Response.resident_id), col(Response.inclusion_probability)))).all()
        )
    assert stored == {drawn.id: 0.25, other.id: None}  # None: not drawn by a sample, asked for certain
