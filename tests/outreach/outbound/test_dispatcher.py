"""The dispatcher: every queued message ends sent, retried, failed or unknown, as its channel says."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
import re
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest
from sqlalchemy import event, select, text, update
from sqlalchemy.exc import DBAPIError

from channels.base import Capabilities, Inbound, Outbound, Request, SendError, Sent
from outreach.bootstrap import Services
from outreach.outbound.dispatcher import Dispatcher, DispatchPolicy
from outreach.outbound.rate_limits import (
    TELEGRAM_CHAT_PREFIX,
    GcraLimiter,
    Item,
    RatePolicy,
    Reservation,
    address_tag,
    standard_policy,
)
from outreach.outbound.send_slots import LIMITER_KEY
from storage.keys import installation_key, read_key
from storage.outbox import ClaimedMessage, NewMessage, OutboxRepository
from storage.residents import ResidentRepository
from storage.tables import ContactAddress, OutboxMessage
from tests.conftest import ManualClock
from tests.factories import add_resident
from tests.outreach.helpers import CAMPAIGN_YAML, launch, outbox

PHONE = "+48600100200"


class ScriptedChannel:
    """A channel whose provider answers as the test scripts it: a result or an error per call."""

    capabilities: ClassVar[Capabilities] = Capabilities(max_length=160)

    def __init__(self, name: str, script: Callable[[Outbound], Sent]) -> None:
        self.name = name
        self._script = script
        self.calls: list[str] = []

    def verify(self, request: Request) -> bool:
        return False

    def parse_inbound(self, request: Request) -> list[Inbound]:
        return []

    async def send(self, outbound: Outbound) -> Sent:
        self.calls.append(outbound.key)
        return self._script(outbound)


def dispatcher_with(services: Services, channel: ScriptedChannel, *, max_attempts: int = 3) -> Dispatcher:
    return Dispatcher(
        services.sessions,
        {channel.name: channel},
        worker_id="test",
        policy=DispatchPolicy(concurrency=4, batch_size=10, max_attempts=max_attempts, backoff_seconds=10),
        clock=services.clock,
        jitter=random.Random(1),
    )


def failing(error: SendError) -> Callable[[Outbound], Sent]:
    def send(outbound: Outbound) -> Sent:
        raise error

    return send


async def test_drain_sends_every_message_through_the_sandbox(services: Services) -> None:
    for number in range(5):
        await add_resident(services, phone=f"+4860010020{number}")
    await launch(services)
    assert await services.dispatcher.drain() == 5
    messages = await outbox(services)
    assert {m.status for m in messages} == {"sent"}
    assert all(m.provider_id and m.provider_id.startswith("SB") for m in messages)
    [delivered] = services.sandboxes["sms"].inbox[PHONE]
    assert delivered.endswith("Czy jeździsz tramwajem?\n1) tak\n2) nie")


async def test_retryable_errors_back_off_then_fail_after_the_last_attempt(
    services: Services, clock: ManualClock
) -> None:
    await add_resident(services, phone=PHONE)
    await launch(services)
    channel = ScriptedChannel("sms", failing(SendError("HTTP 503", retryable=True)))
    dispatcher = dispatcher_with(services, channel)
    assert await dispatcher.drain() == 1
    [message] = await outbox(services)
    assert (message.status, message.attempts, message.error_class) == ("queued", 1, "retryable")
    first_wait = message.next_attempt_at - clock.now
    assert timedelta(seconds=5) <= first_wait <= timedelta(seconds=10)
    assert await dispatcher.drain() == 0  # not due yet: nothing is sent early
    clock.now = message.next_attempt_at
    assert await dispatcher.drain() == 1
    [message] = await outbox(services)
    second_wait = message.next_attempt_at - clock.now
    assert timedelta(seconds=10) <= second_wait <= timedelta(seconds=20)  # exponential
    clock.now = message.next_attempt_at
    await dispatcher.drain()
    [message] = await outbox(services)
    assert (message.status, message.attempts, message.error_class) == ("failed", 3, "retryable")
    assert len(channel.calls) == 3


async def test_retry_after_from_the_provider_is_honoured(services: Services, clock: ManualClock) -> None:
    await add_resident(services, phone=PHONE)
    await launch(services)
    channel = ScriptedChannel("sms", failing(SendError("429", retryable=True, retry_after=120)))
    await dispatcher_with(services, channel).drain()
    [message] = await outbox(services)
    assert message.next_attempt_at - clock.now == timedelta(seconds=120)


async def test_permanent_error_fails_at_once(services: Services) -> None:
    await add_resident(services, phone=PHONE)
    await launch(services)
    channel = ScriptedChannel("sms", failing(SendError("invalid number", retryable=False)))
    await dispatcher_with(services, channel).drain()
    [message] = await outbox(services)
    assert (message.status, message.error_class, message.error_detail) == (
        "failed",
        "permanent",
        "invalid number",
    )
    assert len(channel.calls) == 1


async def test_stop_contact_error_silences_the_address(services: Services) -> None:
    await add_resident(services, phone=PHONE)
    await launch(services)
    channel = ScriptedChannel("sms", failing(SendError("blocked", retryable=False, stop_contact=True)))
    await dispatcher_with(services, channel).drain()
    [message] = await outbox(services)
    assert (message.status, message.error_class) == ("failed", "stop_contact")
    async with services.sessions() as session:
        contact = (await session.execute(select(ContactAddress))).scalar_one()
    assert contact.opted_out_at == services.clock()


async def test_an_unknown_outcome_is_recorded_and_never_resent(services: Services, clock: ManualClock) -> None:
    await add_resident(services, phone=PHONE)
    await launch(services)

    def dropped(outbound: Outbound) -> Sent:
        raise ConnectionResetError("connection dropped after the request was written")

    channel = ScriptedChannel("sms", dropped)
    dispatcher = dispatcher_with(services, channel)
    await dispatcher.drain()
    clock.advance(days=1)
    await dispatcher.drain()
    [message] = await outbox(services)
    assert (message.status, message.error_class) == ("unknown", "unknown")
    assert len(channel.calls) == 1


async def test_a_message_for_a_channel_that_is_off_fails_with_the_reason(services: Services) -> None:
    await add_resident(services, phone=PHONE)
    await launch(services)
    channel = ScriptedChannel("telegram", lambda outbound: Sent("T1"))
    await dispatcher_with(services, channel).drain()
    [message] = await outbox(services)
    assert (message.status, message.error_detail) == ("failed", "channel sms is not enabled")
    assert channel.calls == []


async def test_a_crashed_workers_rows_are_taken_over_after_the_lease(services: Services, clock: ManualClock) -> None:
    from storage.outbox import OutboxRepository

    for number in range(3):
        await add_resident(services, phone=f"+4860010020{number}")
    await launch(services)
    async with services.sessions() as session, session.begin():
        claimed = await OutboxRepository(session).claim_due(worker="crashed", now=clock(), limit=10)
        await OutboxRepository(session).mark_sending(claimed[0].id, now=clock())  # died during this send
    survivor = dispatcher_with(services, ScriptedChannel("sms", lambda outbound: Sent("OK")))
    assert await survivor.drain() == 0  # nothing due: the rows are someone else's
    clock.advance(seconds=299)
    assert await survivor.recover_stale_claims() == (0, 0)  # the lease still holds
    clock.advance(seconds=2)
    assert await survivor.recover_stale_claims() == (2, 1)
    assert await survivor.drain() == 2
    statuses = sorted((m.idempotency_key, m.status, m.attempts) for m in await outbox(services))
    assert [(status, attempts) for _, status, attempts in statuses] == [("unknown", 1), ("sent", 1), ("sent", 1)]


async def test_stopping_hands_back_claimed_rows_it_never_started(services: Services) -> None:
    from storage.outbox import OutboxRepository

    await add_resident(services, phone=PHONE)
    await launch(services)
    async with services.sessions() as session, session.begin():
        await OutboxRepository(session).claim_due(worker="test-worker", now=services.clock(), limit=10)
    assert await services.dispatcher.release_claims() == 1
    [message] = await outbox(services)
    assert (message.status, message.attempts, message.claimed_by) == ("queued", 0, None)


async def test_a_blocked_channel_falls_back_to_the_residents_next_channel(services: Services) -> None:
    from tests.outreach.helpers import CAMPAIGN_YAML, reply, responses

    await add_resident(services, telegram="424242", email="ola@example.org")
    await launch(services, CAMPAIGN_YAML.replace("channels: [sms, email]", "channels: [telegram, email]"))
    blocked = ScriptedChannel("telegram", failing(SendError("blocked", retryable=False, stop_contact=True)))
    by_email = ScriptedChannel("email", lambda outbound: Sent("mail-1"))
    dispatcher = Dispatcher(
        services.sessions,
        {"telegram": blocked, "email": by_email},
        worker_id="test",
        policy=DispatchPolicy(concurrency=2, batch_size=10, max_attempts=3, backoff_seconds=10),
        clock=services.clock,
        definitions=services.definitions,
    )
    await dispatcher.drain()
    assert blocked.calls == ["q:1:1:uses_tram:0"]
    assert by_email.calls == ["q:1:1:uses_tram:0via-email"]  # a new message, with the intro again
    messages = {m.idempotency_key: m for m in await outbox(services)}
    assert messages["q:1:1:uses_tram:0via-email"].text.startswith("Miasto Gdańsk pyta o tramwaj.")
    from outreach.inbound.pipeline import Outcome

    assert await reply(services, "ola@example.org", "tak", channel="email") is Outcome.ANSWERED
    assert await responses(services) == [("uses_tram", "yes")]


async def test_no_fallback_without_another_consented_channel(services: Services) -> None:
    await add_resident(services, phone=PHONE)
    await launch(services)
    invalid = ScriptedChannel("sms", failing(SendError("not a mobile", retryable=False, address_invalid=True)))
    dispatcher = Dispatcher(
        services.sessions,
        {"sms": invalid},
        worker_id="test",
        policy=DispatchPolicy(concurrency=2, batch_size=10, max_attempts=3, backoff_seconds=10),
        clock=services.clock,
        definitions=services.definitions,
    )
    await dispatcher.drain()
    assert [m.status for m in await outbox(services)] == ["failed"]


async def test_one_addresss_messages_go_in_queue_order_even_when_sent_side_by_side(services: Services) -> None:
    import asyncio

    from storage.outbox import NewMessage, OutboxRepository

    resident = await add_resident(services, phone=PHONE)
    other = await add_resident(services, phone="+48600100201")
    async with services.sessions() as session, session.begin():
        outbox_rows = OutboxRepository(session)
        for number in range(5):
            for who in (resident, other):
                assert who.id is not None
                contact_id = who.id  # one contact per resident here, created in the same order
                await outbox_rows.enqueue(
                    NewMessage(f"m:{who.id}:{number}", who.id, contact_id, "system", f"{number}"), now=services.clock()
                )
    arrivals: list[str] = []

    class SlowFirst(ScriptedChannel):
        async def send(self, outbound: Outbound) -> Sent:
            if outbound.text == "0":
                await asyncio.sleep(0.05)  # a slow provider answer for the first message only
            arrivals.append(outbound.key)
            return Sent(outbound.key)

    await dispatcher_with(services, SlowFirst("sms", lambda outbound: Sent("x"))).drain()
    for who in (resident, other):
        assert [key for key in arrivals if key.startswith(f"m:{who.id}:")] == [f"m:{who.id}:{n}" for n in range(5)]


async def test_no_address_gets_more_than_the_daily_cap(services: Services, clock: ManualClock) -> None:
    from storage.outbox import NewMessage, OutboxRepository

    resident = await add_resident(services, phone=PHONE)
    assert resident.id is not None
    async with services.sessions() as session, session.begin():
        rows = OutboxRepository(session)
        for number in range(3):
            await rows.enqueue(NewMessage(f"c:{number}", resident.id, 1, "question", f"q{number}"), now=clock())
        await rows.enqueue(NewMessage("reply:1", resident.id, 1, "system", "STOP confirmed"), now=clock())
    channel = ScriptedChannel("sms", lambda outbound: Sent(outbound.key))
    dispatcher = Dispatcher(
        services.sessions,
        {"sms": channel},
        worker_id="test",
        policy=DispatchPolicy(concurrency=1, batch_size=10, max_attempts=3, backoff_seconds=10, daily_cap=2),
        clock=clock,
    )
    await dispatcher.drain()
    assert channel.calls == ["c:0", "c:1", "reply:1"]  # the system reply is never capped
    [waiting] = [m for m in await outbox(services) if m.status == "queued"]
    assert waiting.next_attempt_at == clock.now + timedelta(days=1)
    clock.advance(days=1)
    await dispatcher.drain()
    assert channel.calls[-1] == "c:2"


async def test_a_campaign_stops_at_its_sms_budget_and_says_so(services: Services, clock: ManualClock) -> None:
    from outreach.campaigns.commands import CampaignCommandError, campaign_status, launch_campaign
    from tests.outreach.helpers import CAMPAIGN_YAML, reply

    await add_resident(services, phone=PHONE)
    await add_resident(services, phone="+48600100201")
    prices = {"+48": 0.04}
    too_small = CAMPAIGN_YAML + "budget: 0.05\n"  # the two openings alone cost 0.08
    from flows.loader import load_campaign
    from outreach.campaigns.commands import create_campaign

    record = await create_campaign(services.sessions, load_campaign(too_small), clock=clock)
    with pytest.raises(CampaignCommandError, match=r"needs at least 0\.08 for SMS .* budget is 0\.05"):
        await launch_campaign(services.sessions, record.slug, clock=clock, sms_prices=prices)
    enough_to_start = CAMPAIGN_YAML.replace("Tramwaj na Morenę", "Tramwaj 2") + "budget: 0.12\n"
    second = await create_campaign(services.sessions, load_campaign(enough_to_start), clock=clock)
    await launch_campaign(services.sessions, second.slug, clock=clock, sms_prices=prices)
    channel = ScriptedChannel("sms", lambda outbound: Sent(outbound.key, segments=1))
    dispatcher = Dispatcher(
        services.sessions,
        {"sms": channel},
        worker_id="test",
        policy=DispatchPolicy(concurrency=1, batch_size=10, max_attempts=3, backoff_seconds=10, sms_prices=prices),
        clock=clock,
        definitions=services.definitions,
    )
    await dispatcher.drain()
    await reply(services, PHONE, "tak")
    await reply(services, "+48600100201", "tak")
    await dispatcher.drain()
    assert len(channel.calls) == 3  # 0.04 each: the fourth would make 0.16 of 0.12
    status = await campaign_status(services.sessions, second.slug)
    assert status.record.status == "paused"
    assert status.record.paused_because == "budget reached: spent 0.12 of 0.12" or status.record.spent == pytest.approx(
        0.12
    )


class LimiterTime:
    """The limiter's own clock, moved by its sleeps instead of waited, and the times sends left on it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []
        self.sent_at: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def sms_limiter(self, segments_per_second: float) -> GcraLimiter:
        policy = standard_policy(sms_segments_per_second=segments_per_second, headroom=1.0)
        return GcraLimiter(policy, clock=lambda: self.now, sleep=self.sleep)

    def channel(self) -> ScriptedChannel:
        def record(outbound: Outbound) -> Sent:
            self.sent_at.append(self.now)
            return Sent(outbound.key)

        return ScriptedChannel("sms", record)


async def test_sends_wait_for_their_slot_under_the_provider_limit(services: Services) -> None:
    for number in range(5):
        await add_resident(services, phone=f"+4860010020{number}")
    await launch(services)
    limiter_time = LimiterTime()
    dispatcher = Dispatcher(
        services.sessions,
        {"sms": limiter_time.channel()},
        worker_id="test",
        policy=DispatchPolicy(concurrency=1, batch_size=10, max_attempts=3, backoff_seconds=10),
        clock=services.clock,
        limiter=limiter_time.sms_limiter(2),
    )
    await dispatcher.drain()
    assert len(limiter_time.sent_at) == 5
    gaps = [later - earlier for earlier, later in itertools.pairwise(sorted(limiter_time.sent_at))]
    assert gaps == pytest.approx([0.5] * 4)  # 2 segments a second: one one-segment SMS every 0.5 s, no faster
    assert sum(limiter_time.slept) == pytest.approx(2.0) and dispatcher.late_writes == 0


@pytest.mark.parametrize(("lead", "late_writes", "first_sent"), [(0.03, 1, 0.5), (0.0, 5, 0.52)])
async def test_a_send_whose_start_is_recorded_within_the_lead_leaves_at_its_slot(
    services: Services, lead: float, late_writes: int, first_sent: float
) -> None:
    """Woken `start_lead` before its slot, a send records its start meanwhile and goes at the slot;
    woken at the slot (no lead), each 20 ms write made the send late, and it gave its slot up."""
    for number in range(5):
        await add_resident(services, phone=f"+4860010020{number}")
    await launch(services)
    limiter_time = LimiterTime()

    def slow_start(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if statement.startswith("UPDATE outbox SET status") and "sending" in str(parameters):
            limiter_time.now += 0.02  # recording the start takes 20 ms, on the limiter's clock

    dispatcher = Dispatcher(
        services.sessions,
        {"sms": limiter_time.channel()},
        worker_id="test",
        policy=DispatchPolicy(concurrency=1, batch_size=10, slot_tolerance=0.01, start_lead=lead),
        clock=services.clock,
        limiter=limiter_time.sms_limiter(2),
    )
    event.listen(services.engine.sync_engine, "before_cursor_execute", slow_start)
    try:
        assert await dispatcher.drain() == 5
    finally:
        event.remove(services.engine.sync_engine, "before_cursor_execute", slow_start)
    # The first slot is at once (no time to record ahead): late, it takes the next one. With the lead
    # every later send goes exactly at its slot; without it each is late once and goes 20 ms after.
    assert dispatcher.late_writes == late_writes
    assert limiter_time.sent_at[0] == pytest.approx(first_sent)
    gaps = [later - earlier for earlier, later in itertools.pairwise(limiter_time.sent_at)]
    assert gaps == pytest.approx([0.5] * 4) if lead else all(gap > 0.5 for gap in gaps)


class NightFalls(LimiterTime):
    """The limiter's waits pass on the service's clock too: the queue is slow and the evening goes on."""

    def __init__(self, clock: ManualClock) -> None:
        super().__init__()
        self.clock = clock

    async def sleep(self, seconds: float) -> None:
        await super().sleep(seconds)
        self.clock.advance(seconds=seconds)


async def test_a_question_whose_slot_comes_after_quiet_hours_began_waits_for_the_morning(
    services: Services, clock: ManualClock
) -> None:
    """Quiet hours are checked when the send starts, not only when it was claimed: a question claimed at
    20:59:55 whose slot came at 21:00:05 was sent in the night (the demo, whose clock runs 7,200 times
    faster than the limiter's, sent questions at 21:xx so on a loaded machine)."""
    clock.now = datetime.fromisoformat("2027-03-02T20:59:45+01:00").astimezone(UTC)
    for number in range(5):
        await add_resident(services, phone=f"+4860010020{number}")
    await launch(services)
    night = NightFalls(clock)
    dispatcher = Dispatcher(
        services.sessions,
        {"sms": night.channel()},
        worker_id="test",
        policy=DispatchPolicy(concurrency=1, batch_size=10),
        clock=services.clock,
        limiter=night.sms_limiter(0.1),  # a slot every 10 s: 20:59:45, 20:59:55, 21:00:05
    )
    await dispatcher.drain()
    messages = await outbox(services)
    evening = datetime.fromisoformat("2027-03-02T21:00:00+01:00")
    morning = datetime.fromisoformat("2027-03-03T08:00:00+01:00")
    sent = [m for m in messages if m.status == "sent"]
    assert len(sent) == len(night.sent_at) == 2
    assert all(m.claimed_at is not None and m.claimed_at < evening for m in sent)  # each send's recorded start
    held = [m for m in messages if m.status == "queued"]
    assert len(held) == 3 and all(morning <= m.next_attempt_at < morning + timedelta(hours=1) for m in held)
    assert all(m.attempts == 0 for m in held)  # held back, not tried


# --- the pipeline: claims, lanes, chains, stop ----------------------------------------------------

GUARD_SECONDS = 10  # a wait for an event that a broken pipeline never sets fails instead of hanging


class GatedChannel(ScriptedChannel):
    """A provider that answers the keys in `held` only once `gate` opens (all of them with `hold_all`),
    and every other send at once; `finished` lists the sends that got their answer."""

    def __init__(self, name: str, held: Iterable[str] = (), *, hold_all: bool = False) -> None:
        super().__init__(name, lambda outbound: Sent(outbound.key))
        self.held, self.hold_all = set(held), hold_all
        self.gate = asyncio.Event()
        self.finished: list[str] = []
        self._progress = asyncio.Event()

    async def send(self, outbound: Outbound) -> Sent:
        self.calls.append(outbound.key)
        self._progress.set()
        if self.hold_all or outbound.key in self.held:
            await self.gate.wait()
        self.finished.append(outbound.key)
        self._progress.set()
        return Sent(outbound.key)

    async def until(self, condition: Callable[[], bool]) -> None:
        """Until `condition` holds after a send started or finished."""
        while not condition():
            self._progress.clear()
            await asyncio.wait_for(self._progress.wait(), GUARD_SECONDS)


class ClaimLog:
    """Every claim_due's keys, in order; `until` waits for a claim that took a given key."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.claims: list[list[str]] = []
        self._claimed = asyncio.Event()
        claim_due = OutboxRepository.claim_due

        async def logged(repository: OutboxRepository, **arguments: Any) -> list[ClaimedMessage]:
            claimed = await claim_due(repository, **arguments)
            if claimed:
                self.claims.append([message.idempotency_key for message in claimed])
                self._claimed.set()
            return claimed

        monkeypatch.setattr(OutboxRepository, "claim_due", logged)

    def claim_of(self, key: str) -> int | None:
        return next((number for number, keys in enumerate(self.claims) if key in keys), None)

    async def until_claimed(self, key: str) -> None:
        while self.claim_of(key) is None:
            self._claimed.clear()
            await asyncio.wait_for(self._claimed.wait(), GUARD_SECONDS)


async def queue(services: Services, *messages: tuple[str, str, str]) -> None:
    """(channel, address, key) per message, queued in this order, one resident per address."""
    for channel, address, _ in messages:
        async with services.sessions() as session:
            known = await ResidentRepository(session).contact_by_address(channel, address)
        if known is None:
            await add_resident(services, **{"phone" if channel == "sms" else channel: address})
    async with services.sessions() as session, session.begin():
        for channel, address, key in messages:
            contact = await ResidentRepository(session).contact_by_address(channel, address)
            assert contact is not None and contact.id is not None
            message = NewMessage(key, contact.resident_id, contact.id, "system", key)
            assert await OutboxRepository(session).enqueue(message, now=services.clock())


def pipeline(services: Services, *channels: ScriptedChannel, **policy: Any) -> Dispatcher:
    return Dispatcher(
        services.sessions,
        {channel.name: channel for channel in channels},
        worker_id="test-worker",
        policy=DispatchPolicy(**{"concurrency": 8, "batch_size": 4, "max_attempts": 3, **policy}),
        clock=services.clock,
    )


async def statuses(services: Services) -> dict[str, str]:
    return {message.idempotency_key: message.status for message in await outbox(services)}


async def test_the_next_rows_are_claimed_before_the_last_send_of_the_previous_claim_finished(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    await queue(services, *(("sms", f"+4860010020{n}", f"m{n}") for n in range(6)))
    claims = ClaimLog(monkeypatch)
    channel = GatedChannel("sms", held={"m0"})  # the first claim's straggler
    draining = asyncio.create_task(pipeline(services, channel, batch_size=4).drain())
    await channel.until(lambda: len(channel.finished) == 5)
    assert claims.claims[0] == ["m0", "m1", "m2", "m3"]
    assert claims.claim_of("m4") == claims.claim_of("m5") == 1
    assert sorted(channel.finished) == ["m1", "m2", "m3", "m4", "m5"]
    assert (await statuses(services))["m0"] == "sending"  # the first claim's last send, still in flight
    channel.gate.set()
    assert await asyncio.wait_for(draining, GUARD_SECONDS) == 6
    assert set((await statuses(services)).values()) == {"sent"}


async def test_one_addresss_messages_stay_in_queue_order_across_claims(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    ola, others = "+48600100200", ["+48600100201", "+48600100202", "+48600100203"]
    await queue(
        services,
        ("sms", ola, "intro"),
        *(("sms", address, f"other{n}") for n, address in enumerate(others)),
        ("sms", ola, "question"),
        ("sms", ola, "reminder"),
    )
    claims = ClaimLog(monkeypatch)
    channel = GatedChannel("sms", held={"intro"})  # her provider is slow to take the intro
    draining = asyncio.create_task(pipeline(services, channel, batch_size=4).drain())
    await claims.until_claimed("reminder")
    await channel.until(lambda: len(channel.finished) == 3)
    assert claims.claim_of("intro") == 0 and claims.claim_of("question") == 1  # a later claim…
    assert "question" not in channel.calls  # …waits behind the intro still in flight
    channel.gate.set()
    await asyncio.wait_for(draining, GUARD_SECONDS)
    assert [key for key in channel.calls if key in {"intro", "question", "reminder"}] == [
        "intro",
        "question",
        "reminder",
    ]


@pytest.mark.parametrize(
    ("channel_concurrency", "sms_in_flight"),
    [
        ({}, 2),  # DispatchPolicy.concurrency for every channel
        ({"sms": 3}, 3),  # a channel's own size
    ],
)
async def test_a_slow_channel_fills_only_its_own_pool(
    services: Services, channel_concurrency: dict[str, int], sms_in_flight: int
) -> None:
    await queue(
        services,
        *(("sms", f"+4860010020{n}", f"sms{n}") for n in range(5)),  # queued first
        *(("telegram", f"42424242{n}", f"tg{n}") for n in range(5)),
    )
    slow = GatedChannel("sms", hold_all=True)
    fast = GatedChannel("telegram")
    dispatcher = pipeline(services, slow, fast, concurrency=2, batch_size=10, channel_concurrency=channel_concurrency)
    draining = asyncio.create_task(dispatcher.drain())
    await fast.until(lambda: len(fast.finished) == 5)  # all of Telegram, while SMS is stuck:
    await slow.until(lambda: len(slow.calls) >= sms_in_flight)
    assert len(slow.calls) == sms_in_flight and slow.finished == []  # the rest wait for the SMS pool
    slow.gate.set()
    assert await asyncio.wait_for(draining, GUARD_SECONDS) == 10
    assert set((await statuses(services)).values()) == {"sent"}


async def test_a_lane_left_out_of_a_full_claim_for_every_channel_claims_for_itself_at_once(
    services: Services,
) -> None:
    await queue(
        services,
        *(("sms", f"+4860010020{n}", f"sms{n}") for n in range(6)),  # the first claim takes only SMS
        *(("telegram", f"42424242{n}", f"tg{n}") for n in range(2)),
    )
    slow = GatedChannel("sms", hold_all=True)  # the SMS lane never gets room back in this test
    fast = GatedChannel("telegram")
    stopping = asyncio.Event()
    # An hour between polls: only a claim made at once, not the next poll, can reach Telegram in time.
    running = asyncio.create_task(pipeline(services, slow, fast, batch_size=4).run(stopping, poll_seconds=3600))
    await fast.until(lambda: sorted(fast.finished) == ["tg0", "tg1"])
    stopping.set()
    slow.gate.set()
    await asyncio.wait_for(running, GUARD_SECONDS)


async def test_stop_hands_back_unstarted_claims_and_records_the_send_in_flight(services: Services) -> None:
    from outreach.outbound.rate_limits import GcraLimiter, standard_policy

    await queue(services, *(("sms", f"+4860010020{n}", f"m{n}") for n in range(3)))
    channel = GatedChannel("sms", held={"m0"})
    # One SMS segment per 1000 s: m0 goes at once, m1 and m2 wait for their limiter slots.
    limiter = GcraLimiter(standard_policy(sms_segments_per_second=0.001, headroom=1.0))
    dispatcher = Dispatcher(
        services.sessions,
        {"sms": channel},
        worker_id="test-worker",
        # However slowly m0's start is written, m0 keeps its slot (see the test of slow writes).
        policy=DispatchPolicy(concurrency=4, batch_size=10, slot_tolerance=GUARD_SECONDS),
        clock=services.clock,
        limiter=limiter,
    )
    stopping = asyncio.Event()
    running = asyncio.create_task(dispatcher.run(stopping, poll_seconds=60))
    await channel.until(lambda: channel.calls == ["m0"])
    stopping.set()  # SIGTERM while m0 is with the provider
    channel.gate.set()
    await asyncio.wait_for(running, GUARD_SECONDS)  # not 1000 s: nobody waits for a limiter slot
    rows = {message.idempotency_key: message for message in await outbox(services)}
    assert (rows["m0"].status, rows["m0"].provider_id) == ("sent", "m0")  # started, so finished and recorded
    for key in ("m1", "m2"):
        assert (rows[key].status, rows[key].attempts, rows[key].claimed_by) == ("queued", 0, None)
    assert channel.calls == ["m0"]


async def test_the_first_sends_reach_the_limiter_in_queue_order_however_slow_the_key_is_to_read(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first sends wait for one read of the installation key that keys the limiter: m0's read,
    slow here (as on a connection still to be opened), must not let m1 take the first slot (the stop
    test above failed that way on PostgreSQL when the reconciliation held the pool's open connection)."""
    import outreach.outbound.send_slots as send_slots_module
    from outreach.outbound.rate_limits import GcraLimiter, standard_policy

    await queue(services, *(("sms", f"+4860010020{n}", f"m{n}") for n in range(3)))
    asked = asyncio.Event()

    class Watched(GcraLimiter):
        async def acquire_all(self, items: Iterable[Item], *, lead: float = 0.0) -> Reservation:
            asked.set()
            return await super().acquire_all(items, lead=lead)

    reads: list[int] = []

    async def slow_first_read(*arguments: Any, **options: Any) -> str:
        reads.append(len(reads))
        if len(reads) == 1:  # until another send asks the limiter (it must not), at most 0.2 s
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asked.wait(), 0.2)
        return await installation_key(*arguments, **options)

    monkeypatch.setattr(send_slots_module, "installation_key", slow_first_read)
    channel = GatedChannel("sms")
    dispatcher = Dispatcher(
        services.sessions,
        {"sms": channel},
        worker_id="test-worker",
        policy=DispatchPolicy(concurrency=4, batch_size=10, slot_tolerance=GUARD_SECONDS),
        clock=services.clock,
        limiter=Watched(standard_policy(sms_segments_per_second=0.001, headroom=1.0)),  # one slot only
    )
    stopping = asyncio.Event()
    running = asyncio.create_task(dispatcher.run(stopping, poll_seconds=60))
    await channel.until(lambda: bool(channel.finished))
    stopping.set()
    await asyncio.wait_for(running, GUARD_SECONDS)
    assert channel.calls == ["m0"]
    assert reads == [0]  # read once


@pytest.mark.parametrize(
    ("channels", "excluding", "claimed"),
    [
        (None, (), ["s1", "t1", "e1", "s2"]),
        (["telegram"], (), ["t1"]),
        (["sms", "email"], (), ["s1", "e1", "s2"]),
        (None, ["sms"], ["t1", "e1"]),
        (None, ["sms", "telegram", "email"], []),
        ([], (), []),
    ],
)
async def test_claims_keep_to_the_channels_asked_for(
    services: Services, channels: list[str] | None, excluding: list[str], claimed: list[str]
) -> None:
    await queue(
        services,
        ("sms", "+48600100200", "s1"),
        ("telegram", "424242", "t1"),
        ("email", "ola@example.org", "e1"),
        ("sms", "+48600100201", "s2"),
    )
    async with services.sessions() as session, session.begin():
        rows = await OutboxRepository(session).claim_due(
            worker="w", now=services.clock(), limit=10, channels=channels, excluding=excluding
        )
    assert [row.idempotency_key for row in rows] == claimed
    assert {key for key, status in (await statuses(services)).items() if status == "claimed"} == set(claimed)


@pytest.mark.parametrize(
    ("taken_over_by", "starts"),
    [
        (None, True),  # still this worker's claim
        ("released", False),  # handed back (stopping), now queued
        ("other", False),  # recovered after the lease and claimed by another worker
    ],
)
async def test_a_send_starts_only_while_the_claim_is_still_this_workers(
    services: Services, taken_over_by: str | None, starts: bool
) -> None:
    await queue(services, ("sms", PHONE, "m0"))
    async with services.sessions() as session, session.begin():
        outbox_rows = OutboxRepository(session)
        [message] = await outbox_rows.claim_due(worker="mine", now=services.clock(), limit=1)
        if taken_over_by is not None:
            await outbox_rows.release_claims("mine")
        if taken_over_by == "other":
            await outbox_rows.claim_due(worker="other", now=services.clock(), limit=1)
        assert await outbox_rows.mark_sending(message.id, now=services.clock(), worker="mine") is starts
    expected = {None: "sending", "released": "queued", "other": "claimed"}[taken_over_by]
    assert (await statuses(services))["m0"] == expected


@pytest.mark.parametrize(
    ("concurrency", "latency_ms", "pools"),
    [
        (None, 300, {"sms": 6, "whatsapp": 6, "telegram": 18, "email": 4}),  # 2 × rate × 0.3 s, at least 4
        (None, 1000, {"sms": 20, "whatsapp": 20, "telegram": 60, "email": 4}),
        (32, 300, {"sms": 32, "whatsapp": 32, "telegram": 32, "email": 32}),  # one size set for all
    ],
)
def test_each_channels_pool_covers_its_rate_limit_at_the_set_latency(
    concurrency: int | None, latency_ms: int, pools: dict[str, int]
) -> None:
    from outreach.bootstrap import ADDRESS_KINDS, channel_pools
    from outreach.settings import Settings

    settings = Settings(_env_file=None, dispatcher_concurrency=concurrency, dispatcher_latency_ms=latency_ms)
    assert channel_pools(settings, ADDRESS_KINDS) == pools


async def test_a_store_outage_pauses_claiming_and_sending_goes_on_by_itself(
    services: Services, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    await queue(services, ("sms", PHONE, "m0"))
    claim_due = OutboxRepository.claim_due
    outage = [OSError("connection refused"), OSError("connection refused")]  # the first two claims

    async def flaky(repository: OutboxRepository, **arguments: Any) -> list[ClaimedMessage]:
        if outage:
            raise outage.pop()
        return await claim_due(repository, **arguments)

    monkeypatch.setattr(OutboxRepository, "claim_due", flaky)
    channel = GatedChannel("sms")
    stopping = asyncio.Event()
    running = asyncio.create_task(pipeline(services, channel).run(stopping, poll_seconds=0.01))
    await channel.until(lambda: channel.finished == ["m0"])
    stopping.set()
    await asyncio.wait_for(running, GUARD_SECONDS)
    assert (await statuses(services))["m0"] == "sent"
    # Two failed claims: the outage is said once, and its end once.
    assert caplog.text.count("store unavailable (OSError); retrying") == 1
    assert re.search(r"dispatcher: store available again after \d+ s \(2 tries failed\)", caplog.text)


async def test_a_claim_the_schema_does_not_fit_is_logged_as_an_error_once_not_as_an_outage(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    # A real defect: the outbox renamed away, as a half-applied change left it (ProgrammingError on
    # PostgreSQL, OperationalError "no such table" on SQLite).
    await queue(services, ("sms", PHONE, "m0"))
    async with services.sessions() as session, session.begin():
        await session.execute(text("ALTER TABLE outbox RENAME TO outbox_away"))
    dispatcher = Dispatcher(
        services.sessions,
        {"sms": GatedChannel("sms")},
        worker_id="worker-5e1f7a",  # a parameter of the claim: it must not reach the log
        policy=DispatchPolicy(concurrency=4, batch_size=4, max_attempts=3),
        clock=services.clock,
    )
    stopping, logged_error = asyncio.Event(), asyncio.Event()
    watch = logging.Handler(logging.ERROR)
    watch.emit = lambda record: logged_error.set()  # type: ignore[method-assign]
    logging.getLogger().addHandler(watch)
    try:
        running = asyncio.create_task(dispatcher.run(stopping, poll_seconds=0.01))
        with contextlib.suppress(TimeoutError):  # before the fix: warnings only, until the guard
            await asyncio.wait_for(logged_error.wait(), GUARD_SECONDS)
        stopping.set()
        await asyncio.wait_for(running, GUARD_SECONDS)
    finally:
        logging.getLogger().removeHandler(watch)
        async with services.sessions() as session, session.begin():
            await session.execute(text("ALTER TABLE outbox_away RENAME TO outbox"))
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    expected = "ProgrammingError" if services.settings.database_url.startswith("postgresql") else "OperationalError"
    assert len(errors) == 1 and expected in errors[0] and "outbox" in errors[0], errors
    assert "retrying in 60 s" in errors[0]  # not every poll: a defect does not heal in a second
    assert "store unavailable" not in caplog.text
    assert "worker-5e1f7a" not in caplog.text and "SELECT" not in caplog.text and "UPDATE" not in caplog.text
    assert (await statuses(services))["m0"] == "queued"


async def test_a_send_recorded_into_a_schema_it_does_not_fit_is_an_error_not_an_outage(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    # A real defect met after the send: recording it reads the early delivery reports, renamed away.
    await queue(services, ("sms", PHONE, "m0"))
    async with services.sessions() as session, session.begin():
        await session.execute(text("ALTER TABLE early_delivery_reports RENAME TO early_reports_away"))
    try:
        with pytest.raises(DBAPIError):
            await dispatcher_with(services, ScriptedChannel("sms", lambda outbound: Sent("SM1"))).dispatch_once()
    finally:
        async with services.sessions() as session, session.begin():
            await session.execute(text("ALTER TABLE early_reports_away RENAME TO early_delivery_reports"))
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert len(errors) == 1 and "store error" in errors[0] and "its address waits" in errors[0], errors
    assert "store unavailable" not in caplog.text and "SELECT" not in caplog.text


class RecordingLimiter(GcraLimiter):
    """The in-process limiter, remembering every key it was asked for (what Redis would hold)."""

    def __init__(self) -> None:
        super().__init__(standard_policy())
        self.keys: list[str] = []

    async def acquire_all(self, items: Iterable[Item], *, lead: float = 0.0) -> Reservation:
        items = list(items)
        self.keys.extend(key for key, _ in items)
        return await super().acquire_all(items, lead=lead)


async def test_per_chat_limits_are_keyed_by_the_installation_without_a_configured_secret(services: Services) -> None:
    chat = "987654321"
    await add_resident(services, telegram=chat)
    await launch(services, CAMPAIGN_YAML.replace("channels: [sms, email]", "channels: [telegram]"))
    limiters = [RecordingLimiter(), RecordingLimiter()]
    for limiter in limiters:  # two workers, no OUTREACH_PSEUDONYM_SECRET: each finds the key in the database
        channel = ScriptedChannel("telegram", lambda outbound: Sent(provider_id="1"))
        worker = Dispatcher(
            services.sessions,
            {"telegram": channel},
            worker_id=f"worker-{id(limiter)}",
            # slot_tolerance out of the way: a start written slower than 10 ms (a busy machine) takes a fresh slot
            policy=DispatchPolicy(concurrency=4, batch_size=10, slot_tolerance=60.0),
            clock=services.clock,
            limiter=limiter,
        )
        async with services.sessions() as session, session.begin():
            await session.execute(update(OutboxMessage).values(status="queued"))  # send it again, through this worker
        assert await worker.drain() == 1
    first, second = ([key for key in limiter.keys if key.startswith(TELEGRAM_CHAT_PREFIX)] for limiter in limiters)
    assert first == second and len(first) == 1  # the same per-chat key on every worker
    assert chat not in first[0] and address_tag(chat) not in first[0]  # neither the id nor its plain digest
    async with services.sessions() as session:
        key = await read_key(session, LIMITER_KEY)
    assert key is not None and first[0].endswith(address_tag(chat, key.encode()))


@pytest.mark.parametrize(
    ("label", "write_seconds", "tolerance", "slots"),
    [("a write within the tolerance", 0.0, 5.0, 1), ("a write past it", 0.05, 0.01, 2)],
)
async def test_a_send_whose_start_was_recorded_slowly_takes_a_fresh_slot(
    services: Services, label: str, write_seconds: float, tolerance: float, slots: int
) -> None:
    await add_resident(services, telegram="555")
    await launch(services, CAMPAIGN_YAML.replace("channels: [sms, email]", "channels: [telegram]"))
    limiter = RecordingLimiter()
    channel = ScriptedChannel("telegram", lambda outbound: Sent(provider_id="1"))
    worker = Dispatcher(
        services.sessions,
        {"telegram": channel},
        worker_id="slow-writes",
        policy=DispatchPolicy(slot_tolerance=tolerance),
        clock=services.clock,
        limiter=limiter,
        address_key=b"k",
    )

    def slow_start(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if statement.startswith("UPDATE outbox SET status") and "sending" in str(parameters):
            time.sleep(write_seconds)  # the database is slow to record that the send starts

    event.listen(services.engine.sync_engine, "before_cursor_execute", slow_start)
    try:
        assert await worker.drain() == 1
    finally:
        event.remove(services.engine.sync_engine, "before_cursor_execute", slow_start)
    # Late for its slot, the send would crowd the provider's next second: it waits for a new one.
    assert len([key for key in limiter.keys if key.startswith(TELEGRAM_CHAT_PREFIX)]) == slots, label
    assert worker.late_writes == slots - 1 and len(channel.calls) == 1


class SecondAskLimiter(GcraLimiter):
    """The in-process limiter, saying when a send asks for a slot the second time."""

    def __init__(self, policy: RatePolicy) -> None:
        super().__init__(policy)
        self.asks = 0
        self.asked_again = asyncio.Event()

    async def acquire_all(self, items: Iterable[Item], *, lead: float = 0.0) -> Reservation:
        self.asks += 1
        if self.asks == 2:
            self.asked_again.set()
        return await super().acquire_all(items, lead=lead)


async def test_stop_hands_back_a_message_that_waits_for_a_fresh_slot_and_leaves_nothing_sending(
    services: Services,
) -> None:
    await queue(services, ("sms", "+48600100200", "m0"))
    channel = GatedChannel("sms")
    channel.gate.set()
    # One SMS segment per 1000 s: after a slow start record, m0's fresh slot is 1000 s away.
    limiter = SecondAskLimiter(standard_policy(sms_segments_per_second=0.001, headroom=1.0))
    dispatcher = Dispatcher(
        services.sessions,
        {"sms": channel},
        worker_id="test-worker",
        policy=DispatchPolicy(slot_tolerance=0.01),
        clock=services.clock,
        limiter=limiter,
        address_key=b"k",
    )

    def slow_start(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if statement.startswith("UPDATE outbox SET status") and "sending" in str(parameters):
            time.sleep(0.05)

    event.listen(services.engine.sync_engine, "before_cursor_execute", slow_start)
    stopping = asyncio.Event()
    try:
        running = asyncio.create_task(dispatcher.run(stopping, poll_seconds=60))
        await asyncio.wait_for(limiter.asked_again.wait(), GUARD_SECONDS)  # m0 waits for its fresh slot
        assert channel.calls == [] and dispatcher.late_writes == 1
        # It waits as claimed, not sending: a crash now would leave a message that surely never left.
        assert [m.status for m in await outbox(services)] == ["claimed"]
        stopping.set()  # SIGTERM: m0 never went, so it goes back to the queue untouched
        await asyncio.wait_for(running, GUARD_SECONDS)
    finally:
        event.remove(services.engine.sync_engine, "before_cursor_execute", slow_start)
    assert channel.calls == []
    assert [(m.status, m.attempts, m.claimed_by) for m in await outbox(services)] == [("queued", 0, None)]
