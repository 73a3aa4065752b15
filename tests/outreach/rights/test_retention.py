"""Retention: each kind removed once older than its setting (and only then), a bounded batch at a
time, counted in the log's line and in the Prometheus counter; inactive residents erased when set;
one worker a day under the lease; nothing twice."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import func, select, update
from sqlmodel import col

from outreach.bootstrap import Services
from outreach.rights.retention import RETENTION_JOB, Retention, add_retention_job
from outreach.web.prometheus_telemetry import PrometheusTelemetry
from storage.db import read_session
from storage.retention import Kind
from storage.tables import EarlyDeliveryReport, InboundEvent, OutboxMessage, Resident, Response
from tests.conftest import ManualClock
from tests.factories import add_resident
from tests.outreach.helpers import launch, reply
from tests.outreach.rights.scenario import OFFICIAL, PHONE, requests

STRANGER = "+48600100777"


async def _held(services: Services) -> None:
    """An answer (its message kept), a stranger's message, messages sent, an early delivery report."""
    await add_resident(services, phone=PHONE)
    await launch(services)
    await reply(services, PHONE, "tak")
    await reply(services, STRANGER, "kim jesteście?")
    async with services.sessions() as session, session.begin():
        await session.execute(update(OutboxMessage).values(status="sent", provider_id="SM1"))
        session.add(
            EarlyDeliveryReport(channel="sms", provider_id="SM9", status="delivered", received_at=services.clock())
        )


def _retention(services: Services, telemetry: PrometheusTelemetry | None = None, **settings: int) -> Retention:
    configured = services.settings.model_copy(update=settings)
    if telemetry is None:
        return Retention(services.sessions, configured, clock=services.clock)
    return Retention(services.sessions, configured, clock=services.clock, telemetry=telemetry)


async def test_each_kind_goes_once_older_than_its_setting_and_is_counted(
    services: Services, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    await _held(services)
    async with read_session(services.sessions) as session:
        sent = (await session.execute(select(func.count()).select_from(OutboxMessage))).scalar_one()
    telemetry = PrometheusTelemetry()
    retention = _retention(services, telemetry)
    clock.advance(days=10)  # only early reports (7 days) are due
    assert await retention.run(actor=OFFICIAL, dry_run=True) == {
        Kind.INBOUND: 0,
        Kind.UNKNOWN_SENDERS: 0,
        Kind.OUTBOX: 0,
        Kind.EARLY_REPORTS: 1,
    }
    clock.advance(days=90)
    expected = {Kind.INBOUND: 1, Kind.UNKNOWN_SENDERS: 1, Kind.OUTBOX: sent, Kind.EARLY_REPORTS: 1}
    assert await retention.run(actor=OFFICIAL, dry_run=True) == expected
    with caplog.at_level(logging.INFO, logger="outreach.rights.retention"):
        assert await retention.run(actor=OFFICIAL) == expected
    assert f"retention: inbound 1, unknown_senders 1, outbox {sent}, early_reports 1" in caplog.text
    for kind, count in expected.items():
        assert telemetry.registry.get_sample_value("outreach_retention_removed_total", {"kind": kind.value}) == count
    async with read_session(services.sessions) as session:
        events = (await session.execute(select(InboundEvent))).scalars().all()
        assert [(event.text, event.full_text, event.contact_id is not None) for event in events] == [("", None, True)]
        assert set((await session.execute(select(col(OutboxMessage.text)))).scalars()) == {""}
        assert (await session.execute(select(func.count()).select_from(EarlyDeliveryReport))).scalar_one() == 0
        [answer] = (await session.execute(select(Response))).scalars().all()
        assert (answer.value, answer.inbound_event_id) == ("yes", events[0].id)  # the answer stays
    assert await retention.run(actor=OFFICIAL) == dict.fromkeys(expected, 0)


async def test_a_kind_set_to_zero_is_kept_forever(services: Services, clock: ManualClock) -> None:
    await _held(services)
    clock.advance(days=4000)
    counts = await _retention(
        services, retention_inbound_days=0, retention_outbox_days=0, retention_unknown_sender_days=0
    ).run(actor=OFFICIAL)
    assert counts == {Kind.EARLY_REPORTS: 1}


async def test_bounded_batches_remove_everything_due(services: Services, clock: ManualClock) -> None:
    for number in range(5):
        await reply(services, f"+4860010078{number}", "hej")
    clock.advance(days=31)
    retention = _retention(services, retention_batch_size=2)
    assert (await retention.run(actor=OFFICIAL))[Kind.UNKNOWN_SENDERS] == 5
    async with read_session(services.sessions) as session:
        assert (await session.execute(select(func.count()).select_from(InboundEvent))).scalar_one() == 0


async def test_inactive_residents_are_erased_and_erasures_stand_ins_never(
    services: Services, clock: ManualClock
) -> None:
    silent = await add_resident(services, phone="+48600100401")
    await add_resident(services, phone="+48600100402")
    await add_resident(services, phone=PHONE)
    await launch(services)
    await reply(services, PHONE, "tak")
    await requests(services).erase(PHONE, actor=OFFICIAL)  # leaves a stand-in with the answer
    clock.advance(days=150)
    await reply(services, "+48600100402", "nie")  # answered: active
    clock.advance(days=50)
    retention = _retention(services, retention_inactive_months=6)
    assert (await retention.run(actor=OFFICIAL, dry_run=True))[Kind.INACTIVE] == 1
    assert (await retention.run(actor=OFFICIAL))[Kind.INACTIVE] == 1
    assert await requests(services).find("+48600100401", actor=OFFICIAL) == []
    assert len(await requests(services).find("+48600100402", actor=OFFICIAL)) == 1
    async with read_session(services.sessions) as session:
        assert await session.get(Resident, silent.id) is None
        stand_ins = (
            await session.execute(select(func.count()).where(col(Resident.erased_at).is_not(None)))
        ).scalar_one()
        assert stand_ins == 2  # the erasure's, and the silent resident's conversation's
        assert (await session.execute(select(func.count()).select_from(Response))).scalar_one() == 2


async def _strangers_message_of_long_ago(services: Services) -> None:
    async with services.sessions() as session, session.begin():
        received = services.clock() - timedelta(days=40)
        session.add(
            InboundEvent(
                channel="sms", provider_id=f"old{received}", text="hej", outcome="unknown_sender", received_at=received
            )
        )


async def _events(services: Services) -> int:
    async with read_session(services.sessions) as session:
        return int((await session.execute(select(func.count()).select_from(InboundEvent))).scalar_one())


async def test_of_several_workers_one_runs_retention_a_day(services: Services, clock: ManualClock) -> None:
    retention = _retention(services)
    await _strangers_message_of_long_ago(services)
    await retention.run_daily("worker-a")
    assert await _events(services) == 0
    await _strangers_message_of_long_ago(services)
    clock.advance(hours=1)
    await retention.run_daily("worker-b")  # worker-a ran today: worker-b stands aside
    assert await _events(services) == 1
    clock.advance(hours=23)
    await retention.run_daily("worker-b")  # the next day's run is whoever asks first
    assert await _events(services) == 0


async def test_serve_schedules_retention_daily(services: Services) -> None:
    scheduler = AsyncIOScheduler()
    add_retention_job(scheduler, _retention(services))
    job = scheduler.get_job(RETENTION_JOB)
    assert job is not None and job.trigger.interval.total_seconds() == 24 * 3600
