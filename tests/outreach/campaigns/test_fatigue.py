"""Fatigue on every launch: a resident is asked by at most OUTREACH_MAX_ASKS campaigns in
OUTREACH_ASK_WINDOW_DAYS days, sampled campaign or not; an unsampled launch (and a scheduled start)
opens only the eligible and counts those it held back."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlmodel import col

from flows.loader import load_campaign
from outreach.bootstrap import Services
from outreach.campaigns.commands import LaunchReport, campaign_status, create_campaign, launch_campaign
from outreach.campaigns.fatigue import DEFAULT_FATIGUE, Fatigue, fatigue_split
from storage.tables import Conversation
from tests.conftest import ManualClock
from tests.factories import add_resident


def _campaign(name: str, channel: str, *, where: str = "", schedule: str = "") -> str:
    return f"""
name: {name}
languages: [pl]
channels: [{channel}]
{f"audience: {{where: {{{where}}}}}" if where else ""}
{f"schedule: {{start: '{schedule}'}}" if schedule else ""}
questions:
  - id: q
    type: yesno
    text: {{pl: "Czy?"}}
"""


async def _launch(
    services: Services, clock: ManualClock, text: str, *, fatigue: Fatigue = DEFAULT_FATIGUE
) -> LaunchReport:
    record = await create_campaign(services.sessions, load_campaign(text), clock=clock)
    return await launch_campaign(services.sessions, record.slug, clock=clock, fatigue=fatigue)


async def _residents(services: Services) -> None:
    """Four residents on SMS and email, two in Oliwa and two in Osowa."""
    for number, district in enumerate(["Oliwa", "Osowa", "Oliwa", "Osowa"]):
        await add_resident(services, phone=f"+4860010030{number}", email=f"r{number}@example.org", district=district)


async def _asked(services: Services, campaign_id: int) -> list[int]:
    async with services.sessions() as session:
        rows = await session.execute(
            select(col(Conversation.resident_id)).where(col(Conversation.campaign_id) == campaign_id)
        )
        return sorted(rows.scalars())


async def _ask_oliwa_twice(services: Services, clock: ManualClock) -> None:
    # On different addresses, so both ask at once.
    await _launch(services, clock, _campaign("A", "sms", where="district: [Oliwa]"))
    await _launch(services, clock, _campaign("B", "email", where="district: [Oliwa]"))


async def test_an_unsampled_launch_opens_only_residents_not_asked_too_often(
    services: Services, clock: ManualClock
) -> None:
    await _residents(services)
    await _ask_oliwa_twice(services, clock)
    report = await _launch(services, clock, _campaign("C", "sms"))
    assert (report.conversations_started, report.held_back) == (2, 2)
    assert await _asked(services, report.campaign_id) == [2, 4]  # the Osowa residents
    status = await campaign_status(services.sessions, str(report.campaign_id))
    assert (status.audience.opened, status.audience.held_back, status.audience.remaining) == (2, 2, 0)
    # Launched again once the window has passed: the residents held back are asked now.
    clock.advance(days=31)
    again = await launch_campaign(services.sessions, str(report.campaign_id), clock=clock, fatigue=Fatigue())
    assert (again.conversations_started, again.held_back) == (2, 0)
    assert await _asked(services, report.campaign_id) == [1, 2, 3, 4]


async def test_a_higher_limit_asks_everyone(services: Services, clock: ManualClock) -> None:
    await _residents(services)
    await _ask_oliwa_twice(services, clock)
    report = await _launch(services, clock, _campaign("C", "sms"), fatigue=Fatigue(max_asks=3))
    assert (report.conversations_started, report.held_back) == (4, 0)


async def test_a_conversation_waiting_for_its_address_counts_as_an_ask(services: Services, clock: ManualClock) -> None:
    await _residents(services)
    await _launch(services, clock, _campaign("A", "sms", where="district: [Oliwa]"))
    waiting = await _launch(services, clock, _campaign("B", "sms", where="district: [Oliwa]"))
    assert (await campaign_status(services.sessions, str(waiting.campaign_id))).conversations == {"waiting": 2}
    report = await _launch(services, clock, _campaign("C", "email"))
    assert (report.conversations_started, report.held_back) == (2, 2)


async def test_residents_this_campaign_already_asked_are_not_held_back(services: Services, clock: ManualClock) -> None:
    await _residents(services)
    first = await _launch(services, clock, _campaign("C", "sms"))
    await _ask_oliwa_twice(services, clock)  # after C: C's conversations stay, and are not "held back"
    again = await launch_campaign(services.sessions, str(first.campaign_id), clock=clock, fatigue=Fatigue())
    assert (again.conversations_started, again.held_back) == (0, 0)
    assert await _asked(services, first.campaign_id) == [1, 2, 3, 4]


async def test_a_scheduled_start_holds_back_residents_asked_too_often(services: Services, clock: ManualClock) -> None:
    clock.now = datetime(2027, 3, 2, 9, tzinfo=UTC)
    await _residents(services)
    await _ask_oliwa_twice(services, clock)
    scheduled = await _launch(services, clock, _campaign("C", "email", schedule="2027-03-02T11:00:00+00:00"))
    assert scheduled.status == "scheduled"
    clock.now = datetime(2027, 3, 2, 11, tzinfo=UTC)
    assert (await services.lifecycle.tick()).started == 2  # the default limit: 2 asks in 30 days
    assert await _asked(services, scheduled.campaign_id) == [2, 4]
    status = await campaign_status(services.sessions, str(scheduled.campaign_id))
    assert status.audience.held_back == 2


async def test_the_split_before_a_launch_names_the_eligible_and_counts_the_rest(
    services: Services, clock: ManualClock
) -> None:
    await _residents(services)
    await _ask_oliwa_twice(services, clock)
    flow = load_campaign(_campaign("C", "sms"))
    split = await fatigue_split(services.sessions, None, flow, now=clock(), fatigue=Fatigue())
    assert (sorted(split.eligible), split.held_back) == ([2, 4], 2)
    clock.advance(days=31)
    split = await fatigue_split(services.sessions, None, flow, now=clock(), fatigue=Fatigue())
    assert (sorted(split.eligible), split.held_back) == ([1, 2, 3, 4], 0)
