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
from storage.webhook_tables import WebhookDelivery, WebhookEvent, WebhookSubscriber
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
        Kind.WEBHOOKS_DELIVERED: 0,
        Kind.WEBHOOKS_FAILED: 0,
        Kind.RAW_TEXT: 0,  # the campaign has no text question (tests/outreach/rights/test_raw_text.py)
    }
    clock.advance(days=90)
    expected = {Kind.INBOUND: 1, Kind.UNKNOWN_SENDERS: 1, Kind.OUTBOX: sent, Kind.EARLY_REPORTS: 1}
    expected |= {Kind.WEBHOOKS_DELIVERED: 0, Kind.WEBHOOKS_FAILED: 0, Kind.RAW_TEXT: 0}
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
        services,
        retention_inbound_days=0,
        retention_outbox_days=0,
        retention_unknown_sender_days=0,
        retention_webhooks_delivered_days=0,
        retention_webhooks_failed_days=0,
        retention_raw_text_days=0,
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


async def _webhook_events(services: Services, campaign_id: int) -> dict[str, int]:
    """Events fanned out to three subscribers (active, paused, deleted) in every state a delivery
    takes, by name: their ids."""
    now = services.clock()
    deliveries = {
        "delivered": [("active", "delivered")],
        "one_failed": [("active", "delivered"), ("paused", "failed")],
        "waiting_for_a_paused_one": [("active", "delivered"), ("paused", "pending")],
        "being_posted": [("active", "delivering")],
        "for_a_deleted_one": [("deleted", "pending")],
        "nothing_published": [],
    }
    ids: dict[str, int] = {}
    async with services.sessions() as session, session.begin():
        subscribers = {
            status: WebhookSubscriber(url=f"https://{status}.example.org", secret="s", status=status, created_at=now)
            for status in ("active", "paused", "deleted")
        }
        session.add_all(subscribers.values())
        for name in [*deliveries, "not_fanned_out"]:
            fanned = None if name == "not_fanned_out" else now
            event = WebhookEvent(message_id=f"msg_{name}", type="x", campaign_id=campaign_id, created_at=now)
            event.fanned_out_at = fanned
            session.add(event)
            await session.flush()
            assert event.id is not None
            ids[name] = event.id
            for subscriber, status in deliveries.get(name, []):
                subscriber_id = subscribers[subscriber].id
                assert subscriber_id is not None
                session.add(
                    WebhookDelivery(
                        event_id=event.id,
                        subscriber_id=subscriber_id,
                        status=status,
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
    return ids


async def _left(services: Services) -> tuple[set[int], int]:
    async with read_session(services.sessions) as session:
        events = {event_id for event_id in (await session.execute(select(col(WebhookEvent.id)))).scalars() if event_id}
        deliveries = (await session.execute(select(func.count()).select_from(WebhookDelivery))).scalar_one()
    return events, int(deliveries)


async def test_settled_webhook_events_go_with_their_deliveries_and_those_still_due_stay(
    services: Services, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    ids = await _webhook_events(services, await launch(services))
    telemetry = PrometheusTelemetry()
    retention = _retention(
        services,
        telemetry,
        retention_batch_size=2,
        retention_webhooks_delivered_days=30,
        retention_webhooks_failed_days=90,
    )
    clock.advance(days=29)
    counts = await retention.run(actor=OFFICIAL)
    assert (counts[Kind.WEBHOOKS_DELIVERED], counts[Kind.WEBHOOKS_FAILED]) == (0, 0)
    clock.advance(days=2)
    with caplog.at_level(logging.INFO, logger="outreach.rights.retention"):
        counts = await retention.run(actor=OFFICIAL)
    assert (counts[Kind.WEBHOOKS_DELIVERED], counts[Kind.WEBHOOKS_FAILED]) == (3, 0)
    assert "webhooks_delivered 3, webhooks_failed 0" in caplog.text
    still = {"one_failed", "waiting_for_a_paused_one", "being_posted", "not_fanned_out"}
    assert await _left(services) == ({ids[name] for name in still}, 5)
    clock.advance(days=60)
    counts = await retention.run(actor=OFFICIAL)
    assert (counts[Kind.WEBHOOKS_DELIVERED], counts[Kind.WEBHOOKS_FAILED]) == (0, 1)
    still.remove("one_failed")
    assert await _left(services) == ({ids[name] for name in still}, 3)
    for kind, count in ((Kind.WEBHOOKS_DELIVERED, 3), (Kind.WEBHOOKS_FAILED, 1)):
        assert telemetry.registry.get_sample_value("outreach_retention_removed_total", {"kind": kind.value}) == count


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
