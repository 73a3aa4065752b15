"""Opening a launched campaign's conversations: page by page, resumable after an outage or a restart,
finished by whichever worker ticks next (never by two at once), and one bad resident skipped and
reported instead of stopping the rest."""

from __future__ import annotations

from contextlib import AsyncExitStack
from datetime import timedelta

import pytest

from flows.loader import load_campaign
from outreach.bootstrap import Services
from outreach.campaigns.commands import campaign_status, close_campaign, create_campaign, launch_campaign
from outreach.campaigns.launches import LAUNCH_LEASE, LaunchProgress, launch_lease
from outreach.campaigns.lifecycle import Lifecycle
from storage.campaigns import CampaignRepository
from storage.db import STORE_UNAVAILABLE
from storage.leases import hold_lease
from storage.residents import ResidentRepository
from tests.conftest import ManualClock
from tests.factories import add_resident
from tests.outreach.helpers import CAMPAIGN_YAML, launch, launch_cut_by_an_outage, outbox
from tests.world import store_outage

PHONES = [f"+4860010020{number}" for number in range(5)]


async def first_questions(services: Services) -> list[str]:
    return sorted(m.idempotency_key for m in await outbox(services) if m.idempotency_key.endswith(":uses_tram:0"))


async def five_residents_launched_until_an_outage(services: Services, clock: ManualClock) -> str:
    """A launch of five residents in pages of two: the store goes down for real after the first page."""
    for phone in PHONES:
        await add_resident(services, phone=phone)
    record = await create_campaign(services.sessions, load_campaign(CAMPAIGN_YAML), clock=clock)
    await launch_cut_by_an_outage(services, record.slug, page_size=2)
    return record.slug


async def test_a_launch_cut_by_an_outage_is_finished_exactly_once_by_a_later_tick(
    services: Services, clock: ManualClock
) -> None:
    slug = await five_residents_launched_until_an_outage(services, clock)
    assert await first_questions(services) == ["q:1:1:uses_tram:0", "q:1:2:uses_tram:0"]
    status = await campaign_status(services.sessions, slug)
    assert (status.audience.state, status.audience.opened, status.audience.remaining) == ("opening", 2, 3)
    # The interrupted launcher's lease still runs: nobody else opens beside it.
    assert (await services.lifecycle.tick()).started == 0
    clock.advance(seconds=LAUNCH_LEASE.total_seconds())
    assert (await services.lifecycle.tick()).started == 3
    assert (await services.lifecycle.tick()).started == 0
    assert await first_questions(services) == [f"q:1:{resident}:uses_tram:0" for resident in range(1, 6)]
    status = await campaign_status(services.sessions, slug)
    assert (status.audience.state, status.audience.opened, status.audience.remaining) == ("opened", 5, 0)


async def test_a_launch_run_again_after_an_outage_goes_on_where_it_stopped(
    services: Services, clock: ManualClock
) -> None:
    slug = await five_residents_launched_until_an_outage(services, clock)
    clock.advance(seconds=LAUNCH_LEASE.total_seconds())
    report = await launch_campaign(services.sessions, slug, clock=clock)
    assert (report.status, report.conversations_started, report.skipped) == ("active", 3, 0)
    assert len(await first_questions(services)) == 5


async def test_a_scheduled_start_cut_by_an_outage_is_finished_by_the_next_tick(
    services: Services, clock: ManualClock
) -> None:
    for phone in PHONES:
        await add_resident(services, phone=phone)
    start = clock() + timedelta(hours=1)
    yaml = CAMPAIGN_YAML + f"schedule:\n  start: {start.isoformat()}\n"
    record = await create_campaign(services.sessions, load_campaign(yaml), clock=clock)
    assert (await launch_campaign(services.sessions, record.slug, clock=clock)).status == "scheduled"
    clock.advance(hours=1)
    async with AsyncExitStack() as outage:

        async def store_goes_down(progress: LaunchProgress) -> None:
            await outage.enter_async_context(store_outage(services))

        worker = Lifecycle(
            services.sessions,
            services.definitions,
            clock=clock,
            spread=services.spread,
            page_size=2,
            progress=store_goes_down,
        )
        with pytest.raises(STORE_UNAVAILABLE):
            await worker.tick()
    assert len(await first_questions(services)) == 2
    clock.advance(seconds=LAUNCH_LEASE.total_seconds())
    assert (await services.lifecycle.tick()).started == 3  # another worker, after the first one's lease ran out
    assert len(await first_questions(services)) == 5


async def test_nobody_opens_beside_the_worker_that_holds_the_launch(services: Services, clock: ManualClock) -> None:
    slug = await five_residents_launched_until_an_outage(services, clock)
    clock.advance(seconds=LAUNCH_LEASE.total_seconds())
    async with services.sessions() as session, session.begin():
        assert await hold_lease(session, launch_lease(1), holder="other-worker/1", now=clock(), ttl=LAUNCH_LEASE)
    again = await launch_campaign(services.sessions, slug, clock=clock)
    assert (again.status, again.conversations_started, again.finished) == ("active", 0, False)
    assert (await services.lifecycle.tick()).started == 0
    assert len(await first_questions(services)) == 2
    clock.advance(seconds=LAUNCH_LEASE.total_seconds())  # that worker died without finishing
    assert (await services.lifecycle.tick()).started == 3
    assert len(await first_questions(services)) == 5


async def test_a_resident_the_database_refuses_is_skipped_and_reported_and_the_others_are_opened(
    services: Services, clock: ManualClock
) -> None:
    if not services.settings.database_url.startswith("postgresql"):
        pytest.skip("SQLite does not enforce VARCHAR lengths: the 70-character time zone is stored there")
    await add_resident(services, phone=PHONES[0])
    bad = await add_resident(services, phone=PHONES[1], timezone="Europe/" + "x" * 63)  # 70 > outbox.timezone's 64
    await add_resident(services, phone=PHONES[2])
    record = await create_campaign(services.sessions, load_campaign(CAMPAIGN_YAML), clock=clock)
    report = await launch_campaign(services.sessions, record.slug, clock=clock)
    assert (report.status, report.conversations_started, report.skipped) == ("active", 2, 1)
    assert await first_questions(services) == ["q:1:1:uses_tram:0", "q:1:3:uses_tram:0"]
    status = await campaign_status(services.sessions, record.slug)
    assert (status.audience.state, status.audience.opened, status.audience.skipped) == ("opened", 2, 1)
    assert status.audience.remaining == 0
    [skip] = status.skips
    assert skip.resident == bad.pseudonym
    assert (
        skip.reason
        == "the database refused the resident's data: a text is longer than its column holds [SQLSTATE 22001]"
    )
    assert "xxxx" not in skip.reason and PHONES[1] not in skip.reason


async def test_a_campaign_closed_while_opening_asks_nobody_more(services: Services, clock: ManualClock) -> None:
    slug = await five_residents_launched_until_an_outage(services, clock)
    await close_campaign(services.sessions, slug, services.definitions, clock=clock)
    clock.advance(seconds=LAUNCH_LEASE.total_seconds())
    assert (await services.lifecycle.tick()).started == 0
    assert len(await first_questions(services)) == 2
    status = await campaign_status(services.sessions, slug)
    assert (status.record.status, status.audience.opened, status.audience.remaining) == ("closed", 2, 3)


async def test_a_launch_that_cannot_go_on_does_not_hold_up_the_other_jobs(
    services: Services, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    await add_resident(services, phone=PHONES[0])
    await launch(services, CAMPAIGN_YAML + "schedule:\n  reminders: [24h]\n")
    slug = await five_residents_launched_until_an_outage(services, clock)  # residents 1-2 of 6 are asked
    async with services.sessions() as session, session.begin():
        record = await CampaignRepository(session).by_reference(slug)
        assert record is not None
        record.definition = {"name": "stored by an older version", "questions": "no longer valid"}
    clock.advance(hours=24)
    report = await services.lifecycle.tick()
    assert (report.started, report.reminded) == (0, 1)  # the first campaign's reminder still went out
    assert f"launch of campaign {record.id} stopped" in caplog.text


async def test_a_skipped_resident_whose_data_was_put_right_is_asked_once_by_the_next_launch(
    services: Services, clock: ManualClock
) -> None:
    """The page the database refused goes one by one and skips the bad resident; run again once the
    data is right, the launch opens only that one (its page set-based) and forgets the skip."""
    if not services.settings.database_url.startswith("postgresql"):
        pytest.skip("SQLite does not enforce VARCHAR lengths: the 70-character time zone is stored there")
    await add_resident(services, phone=PHONES[0])
    bad = await add_resident(services, phone=PHONES[1], timezone="Europe/" + "x" * 63)
    await add_resident(services, phone=PHONES[2])
    record = await create_campaign(services.sessions, load_campaign(CAMPAIGN_YAML), clock=clock)
    first = await launch_campaign(services.sessions, record.slug, clock=clock)
    assert (first.conversations_started, first.skipped) == (2, 1)
    async with services.sessions() as session, session.begin():
        resident = await ResidentRepository(session).get(bad.id or 0)
        resident.attributes = {"timezone": "Europe/Warsaw"}
    again = await launch_campaign(services.sessions, record.slug, clock=clock)
    assert (again.conversations_started, again.skipped) == (1, 0)
    assert await first_questions(services) == [f"q:1:{resident}:uses_tram:0" for resident in (1, 2, 3)]
    status = await campaign_status(services.sessions, record.slug)
    assert (status.audience.opened, status.audience.skipped, status.skips) == (3, 0, [])
