"""A sampled campaign's launch: it draws once, records who was drawn (stratum, inclusion probability),
opens only them, holds back residents other campaigns asked too often, and refuses what cannot be drawn."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select
from sqlmodel import col

from flows.loader import load_campaign
from outreach.bootstrap import Services
from outreach.campaigns.commands import CampaignCommandError, campaign_status, create_campaign, launch_campaign
from outreach.campaigns.fatigue import Fatigue
from outreach.campaigns.sampling import preview_plan, seed_of
from outreach.survey.margins_store import save_margins
from outreach.survey.sampling import draw
from storage.launches import LaunchRepository
from storage.samples import SampleRepository
from storage.tables import Conversation, Resident
from tests.conftest import ManualClock
from tests.factories import add_resident
from tests.outreach.helpers import CITY, SAMPLED


def _asking_everyone(channel: str, name: str) -> str:
    return f"""
name: {name}
languages: [pl]
channels: [{channel}]
questions:
  - id: q
    type: yesno
    text: {{pl: "Czy?"}}
"""


async def _city(services: Services, clock: ManualClock, per_district: int = 10) -> None:
    async with services.sessions() as session, session.begin():
        await save_margins(session, CITY, source="test", now=clock())
    for number in range(2 * per_district):
        district = "Oliwa" if number % 2 == 0 else "osowa "  # spelt unlike the margins: folded to match
        await add_resident(services, phone=f"+486001002{number:02d}", email=f"r{number}@example.org", district=district)


async def _conversations(services: Services, campaign_id: int) -> list[tuple[int, str]]:
    async with services.sessions() as session:
        rows = await session.execute(
            select(col(Conversation.resident_id), col(Resident.attributes))
            .join(Resident, col(Resident.id) == col(Conversation.resident_id))
            .where(col(Conversation.campaign_id) == campaign_id)
        )
        return sorted((resident_id, attributes["district"].strip()) for resident_id, attributes in rows.all())


async def test_a_sampled_launch_opens_only_the_drawn_and_records_the_design(
    services: Services, clock: ManualClock
) -> None:
    await _city(services, clock)
    record = await create_campaign(services.sessions, load_campaign(SAMPLED), clock=clock)
    report = await launch_campaign(services.sessions, record.slug, clock=clock)
    assert report.conversations_started == 5
    opened = await _conversations(services, report.campaign_id)
    assert Counter(district for _, district in opened) == {"Oliwa": 3, "osowa": 2}
    async with services.sessions() as session:
        samples = SampleRepository(session)
        design = await samples.design(report.campaign_id)
        drawn = await samples.drawn(report.campaign_id)
    assert design is not None and (design.seed, design.size, design.margins) == (7, 5, "city")
    assert [(s["stratum"], s["wanted"], s["eligible"], s["drawn"]) for s in design.allocation] == [
        ("Oliwa", 3, 10, 3),
        ("Osowa", 2, 10, 2),
    ]
    assert sorted(d.resident_id for d in drawn) == [resident_id for resident_id, _ in opened]
    assert sorted((d.stratum, d.inclusion_probability) for d in drawn) == [("oliwa", 0.3)] * 3 + [("osowa", 0.2)] * 2
    # Launched again: the same sample, nobody new; the status counts only the drawn.
    again = await launch_campaign(services.sessions, record.slug, clock=clock)
    assert again.conversations_started == 0
    status = await campaign_status(services.sessions, record.slug)
    assert (status.audience.opened, status.audience.remaining) == (5, 0)


async def test_the_same_seed_draws_the_same_residents(services: Services, clock: ManualClock) -> None:
    await _city(services, clock)
    flow = load_campaign(SAMPLED)
    draws = []
    for _ in range(2):
        record = await create_campaign(services.sessions, flow, clock=clock)
        plan = await preview_plan(services.sessions, record.id, flow, now=clock(), fatigue=Fatigue())
        draws.append(draw(plan, seed_of(flow.audience.sample, record.id or 0)))  # type: ignore[arg-type]
    assert draws[0] == draws[1]  # seed 7 in the file, whichever campaign
    assert len(draws[0]) == 5


async def test_fatigue_holds_back_residents_asked_twice_lately(services: Services, clock: ManualClock) -> None:
    await _city(services, clock, per_district=3)
    # Two campaigns (on different addresses, so both ask at once) ask the Oliwa residents.
    for channel, name in (("sms", "A"), ("email", "B")):
        text = _asking_everyone(channel, name).replace(
            "questions:", "audience:\n  where: {district: [Oliwa]}\nquestions:"
        )
        record = await create_campaign(services.sessions, load_campaign(text), clock=clock)
        await launch_campaign(services.sessions, record.slug, clock=clock)
    sampled = load_campaign(SAMPLED.replace("size: 5", "size: 3"))
    record = await create_campaign(services.sessions, sampled, clock=clock)
    plan = await preview_plan(services.sessions, record.id, sampled, now=clock(), fatigue=Fatigue())
    assert plan.held_back == {("oliwa",): 3, ("osowa",): 0}
    assert [(q.stratum, q.available, q.allocated) for q in plan.allocation.strata] == [
        (("oliwa",), 0, 0),
        (("osowa",), 3, 3),
    ]
    assert [q.stratum for q in plan.allocation.short] == [("oliwa",)]
    # Three asks allowed: nobody is held back. Outside the window: neither.
    assert (
        sum(
            (
                await preview_plan(services.sessions, record.id, sampled, now=clock(), fatigue=Fatigue(3))
            ).held_back.values()
        )
        == 0
    )
    clock.advance(days=31)
    assert (
        sum(
            (
                await preview_plan(services.sessions, record.id, sampled, now=clock(), fatigue=Fatigue())
            ).held_back.values()
        )
        == 0
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("size: 5", "size: 50"), "audience.sample.size: 50 is more than the 20 eligible residents"),
        (("margins: city", "margins: town"), "audience.sample.margins: no margins named 'town'; there are: city"),
        (("strata: [district]", "strata: [distrct]"), "unknown dimension 'distrct'"),
    ],
)
async def test_a_sample_that_cannot_be_drawn_is_refused_before_anything_is_sent(
    services: Services, clock: ManualClock, change: tuple[str, str], message: str
) -> None:
    await _city(services, clock)
    record = await create_campaign(services.sessions, load_campaign(SAMPLED.replace(*change)), clock=clock)
    with pytest.raises(CampaignCommandError, match=message):
        await launch_campaign(services.sessions, record.slug, clock=clock)
    status = await campaign_status(services.sessions, record.slug)
    assert (status.record.status, status.audience.opened) == ("draft", 0)


async def test_the_budget_is_checked_against_the_sample_not_the_whole_audience(
    services: Services, clock: ManualClock
) -> None:
    await _city(services, clock)  # 20 residents by SMS; 5 drawn, 1 segment each at 0.04: 0.20
    flow = load_campaign(SAMPLED + "budget: 0.5\n")
    record = await create_campaign(services.sessions, flow, clock=clock)
    report = await launch_campaign(services.sessions, record.slug, clock=clock, sms_prices={"+48": 0.04})
    assert report.conversations_started == 5


async def test_a_draw_that_fails_after_the_check_is_a_clean_refusal(services: Services, clock: ManualClock) -> None:
    # A launch cut short before its draw (an outage) goes on without the first launch's check: the
    # draw itself refuses, and nothing is drawn or sent.
    await _city(services, clock)
    record = await create_campaign(
        services.sessions, load_campaign(SAMPLED.replace("size: 5", "size: 50")), clock=clock
    )
    assert record.id is not None
    async with services.sessions() as session, session.begin():
        await LaunchRepository(session).begin(record.id)
    with pytest.raises(CampaignCommandError, match=r"audience\.sample\.size: 50 is more than the 20 eligible"):
        await launch_campaign(services.sessions, record.slug, clock=clock)
    async with services.sessions() as session:
        assert await SampleRepository(session).design(record.id) is None
    assert (await campaign_status(services.sessions, record.slug)).audience.opened == 0
