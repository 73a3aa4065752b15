"""Delivery reports: unordered and repeated, a status never moves backwards; dead addresses stop."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlmodel import col

from channels.base import DeliveryStatus, SendError, Sent
from channels.delivery_status import STATUS_RANKS, status_rank
from outreach.bootstrap import Services
from outreach.outbound.delivery_status import apply_early_report, record_delivery_status
from storage.outbox import NewMessage, OutboxRepository
from storage.tables import ContactAddress, EarlyDeliveryReport, OutboxMessage
from tests.conftest import ManualClock
from tests.factories import add_resident
from tests.outreach.helpers import launch, outbox
from tests.outreach.outbound.test_dispatcher import ScriptedChannel, dispatcher_with, failing

PHONE = "+48600100200"

# The order statuses move in, written out here as the tests' own expectation (channels.delivery_status
# holds the production table): a report whose status is in a later tier than the stored one replaces
# it; one in the same or an earlier tier changes nothing; the first tier is never stored at all.
TIERS: list[tuple[str, ...]] = [
    ("receiving", "received", "mystery"),  # about messages sent to us, or unknown
    ("accepted", "scheduled"),
    ("queued",),
    ("sending",),
    ("sent",),
    ("failed", "undelivered", "canceled"),
    ("partially_delivered",),
    ("delivered",),
    ("read",),
]
TIER = {status: tier for tier, statuses in enumerate(TIERS) for status in statuses}
STATUSES = list(TIER)
# Every ordered pair: each two statuses in both orders, and each status twice.
PAIRS: list[tuple[str, str]] = [(first, second) for first, second in itertools.product(STATUSES, repeat=2)]


def kept(first: str, second: str) -> str | None:
    """The status stored after `first` then `second` arrived, by the tiers above."""
    stored: str | None = None
    for status in (first, second):
        if TIER[status] > (TIER[stored] if stored is not None else 0):
            stored = status
    return stored


# The decisions the rule makes, spelled out (and checked against `kept`, so the tiers say them too).
DECISIONS = [
    ("failed", "delivered", "delivered"),  # a late delivery receipt wins over an earlier failure
    ("delivered", "failed", "delivered"),
    ("undelivered", "read", "read"),
    ("read", "undelivered", "read"),
    ("undelivered", "failed", "undelivered"),  # two failures: the first stays
    ("sent", "canceled", "canceled"),  # canceled is final
    ("canceled", "queued", "canceled"),
    ("canceled", "failed", "canceled"),
    ("undelivered", "partially_delivered", "partially_delivered"),  # part of it arrived: more than none
    ("partially_delivered", "undelivered", "partially_delivered"),
    ("partially_delivered", "delivered", "delivered"),
    ("delivered", "partially_delivered", "delivered"),
    ("sent", "received", "sent"),  # an inbound message's status never lands on one we sent
    ("receiving", "mystery", None),
]


async def _sent_message_id(services: Services) -> str:
    await add_resident(services, phone=PHONE)
    await launch(services)
    await services.dispatcher.drain()
    [message] = await outbox(services)
    assert message.provider_id is not None
    return message.provider_id


def report(provider_id: str, status: str, error: str | None = None) -> DeliveryStatus:
    return DeliveryStatus("sms", provider_id, status, error, reported_at=datetime(2027, 3, 2, tzinfo=UTC))


@pytest.mark.parametrize(
    ("label", "arrivals", "final", "error"),
    [
        ("in order", ["sent", "delivered"], "delivered", None),
        ("delivered before sent", ["delivered", "sent"], "delivered", None),
        ("repeated", ["sent", "sent", "delivered", "delivered"], "delivered", None),
        ("failure keeps its code", ["sent", "failed:30008"], "failed", "30008"),
        ("late queued changes nothing", ["delivered", "queued", "sending"], "delivered", None),
        ("read after delivered", ["delivered", "read"], "read", None),
    ],
)
async def test_status_reports_table(
    services: Services, label: str, arrivals: list[str], final: str, error: str | None
) -> None:
    provider_id = await _sent_message_id(services)
    for arrival in arrivals:
        status, _, code = arrival.partition(":")
        await record_delivery_status(services.sessions, report(provider_id, status, code or None), clock=services.clock)
    [message] = await outbox(services)
    assert (message.delivery_status, message.delivery_error) == (final, error), label


async def test_a_report_for_an_unknown_message_changes_nothing(services: Services) -> None:
    assert not await record_delivery_status(services.sessions, report("SMnope", "delivered"), clock=services.clock)


async def test_a_dead_number_is_marked_unreachable_and_left_out_of_later_campaigns(services: Services) -> None:
    provider_id = await _sent_message_id(services)
    await record_delivery_status(services.sessions, report(provider_id, "undelivered", "30005"), clock=services.clock)
    async with services.sessions() as session:
        contact = (await session.execute(select(ContactAddress))).scalar_one()
    assert contact.unreachable_at == services.clock() and contact.opted_out_at is None
    from outreach.campaigns.commands import launch_campaign
    from tests.outreach.helpers import CAMPAIGN_YAML

    await launch(services, CAMPAIGN_YAML.replace("Tramwaj na Morenę", "Drugi"))
    assert (await launch_campaign(services.sessions, "2", clock=services.clock)).conversations_started == 0


async def test_an_invalid_address_from_the_provider_is_marked_unreachable(services: Services) -> None:
    await add_resident(services, phone=PHONE)
    await launch(services)
    channel = ScriptedChannel("sms", failing(SendError("not a mobile number", retryable=False, address_invalid=True)))
    await dispatcher_with(services, channel).drain()
    [message] = await outbox(services)
    assert (message.status, message.error_class) == ("failed", "permanent")
    async with services.sessions() as session:
        contact = (await session.execute(select(ContactAddress))).scalar_one()
    assert contact.unreachable_at is not None


async def test_a_report_that_beats_our_record_of_the_send_is_applied_when_the_send_is_recorded(
    services: Services,
) -> None:
    await add_resident(services, phone=PHONE)
    await launch(services)
    fixed_id = "SMearly"
    # The provider's callback arrives before the dispatcher has stored the id it got back.
    assert not await record_delivery_status(services.sessions, report(fixed_id, "delivered"), clock=services.clock)
    assert not await record_delivery_status(services.sessions, report(fixed_id, "sent"), clock=services.clock)
    channel = ScriptedChannel("sms", lambda outbound: Sent(fixed_id))
    await dispatcher_with(services, channel).drain()
    [message] = await outbox(services)
    assert (message.provider_id, message.delivery_status) == (fixed_id, "delivered")


def test_the_tiers_list_every_status_of_the_production_table() -> None:
    assert set(STATUS_RANKS) == set(STATUSES) - {"mystery"}


@pytest.mark.parametrize(("first", "second", "stored"), DECISIONS)
def test_the_rule_decides_late_and_competing_reports_table(first: str, second: str, stored: str | None) -> None:
    assert kept(first, second) == stored


@pytest.mark.parametrize(("first", "second"), PAIRS)
def test_status_rank_orders_every_pair_table(first: str, second: str) -> None:
    """Each pair, both orders: the ranks compare as the tiers do, and the first tier ranks as no status."""
    by_rank = (status_rank(first) > status_rank(second)) - (status_rank(first) < status_rank(second))
    by_tier = (TIER[first] > TIER[second]) - (TIER[first] < TIER[second])
    assert by_rank == by_tier
    assert (status_rank(first) == status_rank(None)) == (TIER[first] == 0)


async def _messages(services: Services, count: int) -> list[int]:
    """`count` messages queued to one address, not sent yet: their ids."""
    resident = await add_resident(services, phone=PHONE)
    async with services.sessions() as session, session.begin():
        contact = (await session.execute(select(ContactAddress))).scalar_one()
        assert resident.id is not None and contact.id is not None
        outbox_repository = OutboxRepository(session)
        for number in range(count):
            message = NewMessage(f"pair-{number:04}", resident.id, contact.id, kind="question", text="?")
            assert await outbox_repository.enqueue(message, now=services.clock())
        rows = await session.execute(select(OutboxMessage).order_by(col(OutboxMessage.idempotency_key)))
        ids = [message.id for message in rows.scalars() if message.id is not None]
    assert len(ids) == count
    return ids


async def _mark_sent(services: Services, *sends: tuple[int, str]) -> None:
    """What the dispatcher does once the provider took a message (message id, provider id): record the
    send, then apply a report that came before it."""
    async with services.sessions() as session, session.begin():
        for message_id, provider_id in sends:
            await OutboxRepository(session).mark_sent(message_id, provider_id=provider_id, now=services.clock())
            await apply_early_report(session, "sms", provider_id, clock=services.clock)


async def _apply_pairs(services: Services, pairs: list[tuple[str, str]], *, before_the_send: int) -> None:
    """Each pair on a message of its own (one database for all keeps this fast): the two reports go
    through record_delivery_status as the webhooks send them, the first `before_the_send` of them before
    the send is recorded; then the stored statuses are compared with `kept`."""
    ids = await _messages(services, len(pairs))
    if before_the_send == 0:
        await _mark_sent(services, *((message_id, f"SM{message_id}") for message_id in ids))
    for message_id, pair in zip(ids, pairs, strict=True):
        provider_id = f"SM{message_id}"
        for number, status in enumerate(pair):
            if before_the_send and number == before_the_send:
                await _mark_sent(services, (message_id, provider_id))
            await record_delivery_status(services.sessions, report(provider_id, status), clock=services.clock)
        if before_the_send == len(pair):
            await _mark_sent(services, (message_id, provider_id))
    stored = {message.id: message.delivery_status for message in await outbox(services)}
    found = {pair: stored[message_id] for message_id, pair in zip(ids, pairs, strict=True)}
    assert found == {(first, second): kept(first, second) for first, second in pairs}


async def test_every_pair_of_reports_in_both_orders_through_the_store(services: Services) -> None:
    await _apply_pairs(services, PAIRS, before_the_send=0)


@pytest.mark.parametrize(("when", "before_the_send"), [("both before the send is recorded", 2), ("one before", 1)])
async def test_reports_that_beat_the_record_of_the_send_table(
    services: Services, when: str, before_the_send: int
) -> None:
    """The early-report path (kept, then applied when the send is recorded), for the decisions' pairs."""
    pairs = [(first, second) for first, second, _ in DECISIONS]
    await _apply_pairs(services, pairs, before_the_send=before_the_send)


async def _unreachable_at(services: Services) -> datetime | None:
    async with services.sessions() as session:
        contact = (await session.execute(select(ContactAddress))).scalar_one()
    return contact.unreachable_at


async def test_partially_delivered_is_stored(services: Services) -> None:
    """Part of it arrived after a dead-number failure: stored, and the address is not dead."""
    provider_id = await _sent_message_id(services)
    for status, code in (("undelivered", "30003"), ("partially_delivered", None)):
        await record_delivery_status(services.sessions, report(provider_id, status, code), clock=services.clock)
    [message] = await outbox(services)
    assert (message.delivery_status, message.delivery_error) == ("partially_delivered", "30003")
    assert await _unreachable_at(services) is None


@pytest.mark.parametrize(
    ("label", "arrivals", "final", "unreachable"),
    [
        (
            "a delivery receipt after a dead-number failure takes the mark back",
            ["undelivered:30003", "delivered"],
            ("delivered", "30003"),
            False,
        ),
        ("so does a read receipt", ["failed:30005", "read"], ("read", "30005"), False),
        (
            "a failure after the delivery changes nothing",
            ["delivered", "undelivered:30003"],
            ("delivered", None),
            False,
        ),
        (
            "a failure that says nothing of the address",
            ["undelivered:30008", "delivered"],
            ("delivered", "30008"),
            False,
        ),
        ("a dead-number failure alone", ["sent", "undelivered:30005"], ("undelivered", "30005"), True),
        ("a competing failure keeps the mark", ["undelivered:30005", "failed"], ("undelivered", "30005"), True),
        ("canceled after it keeps the mark", ["undelivered:30005", "canceled"], ("undelivered", "30005"), True),
    ],
)
async def test_a_late_delivery_and_the_dead_address_mark_table(
    services: Services, label: str, arrivals: list[str], final: tuple[str, str | None], unreachable: bool
) -> None:
    provider_id = await _sent_message_id(services)
    for arrival in arrivals:
        status, _, code = arrival.partition(":")
        await record_delivery_status(services.sessions, report(provider_id, status, code or None), clock=services.clock)
    [message] = await outbox(services)
    assert (message.delivery_status, message.delivery_error) == final, label
    assert (await _unreachable_at(services) is not None) == unreachable, label


async def test_a_late_receipt_for_another_message_leaves_the_mark(services: Services) -> None:
    """The mark goes only with the failure of the message that made it: an older message's receipt
    arriving late says nothing about a later message's dead-number failure."""
    first, second = await _messages(services, 2)
    await _mark_sent(services, (first, "SMolder"), (second, "SMnewer"))
    await record_delivery_status(services.sessions, report("SMnewer", "undelivered", "30005"), clock=services.clock)
    await record_delivery_status(services.sessions, report("SMolder", "delivered"), clock=services.clock)
    assert await _unreachable_at(services) == services.clock()


def on(channel: str, provider_id: str, status: str, error: str | None = None) -> DeliveryStatus:
    return DeliveryStatus(channel, provider_id, status, error, reported_at=datetime(2027, 3, 2, tzinfo=UTC))


async def test_a_report_matches_only_a_message_of_its_own_channel(services: Services) -> None:
    """Provider ids are unique only within a provider (Telegram's repeat per chat): an id that names an
    SMS is no message of any other channel's."""
    provider_id = await _sent_message_id(services)
    [before] = await outbox(services)
    for other in ("whatsapp", "email", "telegram"):
        report = on(other, provider_id, "undelivered", "30005")
        assert not await record_delivery_status(services.sessions, report, clock=services.clock)
    [after] = await outbox(services)
    assert (after.delivery_status, after.delivery_error) == (before.delivery_status, before.delivery_error)
    assert await _unreachable_at(services) is None


async def test_early_reports_are_kept_per_channel(services: Services) -> None:
    """The same id reported early on two channels: the send takes its own channel's report only."""
    await add_resident(services, phone=PHONE)
    await launch(services)
    await record_delivery_status(services.sessions, on("sms", "X1", "undelivered", "30008"), clock=services.clock)
    await record_delivery_status(services.sessions, on("whatsapp", "X1", "delivered"), clock=services.clock)
    await dispatcher_with(services, ScriptedChannel("sms", lambda outbound: Sent("X1"))).drain()
    [message] = await outbox(services)
    assert (message.delivery_status, message.delivery_error) == ("undelivered", "30008")
    assert await early_reports(services) == [("whatsapp", "X1")]


async def test_an_early_report_expires(services: Services, clock: ManualClock) -> None:
    """A report for a send not recorded within the hour is about no send of ours: dropped, not applied."""
    await add_resident(services, phone=PHONE)
    await launch(services)
    await record_delivery_status(services.sessions, on("sms", "SMlate", "delivered"), clock=services.clock)
    clock.advance(hours=1, seconds=1)
    await dispatcher_with(services, ScriptedChannel("sms", lambda outbound: Sent("SMlate"))).drain()
    [message] = await outbox(services)
    assert (message.provider_id, message.delivery_status) == ("SMlate", None)
    assert await early_reports(services) == []


async def early_reports(services: Services) -> list[tuple[str, str]]:
    async with services.sessions() as session:
        rows = await session.execute(select(EarlyDeliveryReport).order_by(col(EarlyDeliveryReport.provider_id)))
        return [(early.channel, early.provider_id) for early in rows.scalars()]
