"""Providers failing at a steady rate (issue 8: "sending at provider speed, never twice").

The real dispatcher sends a few hundred messages through the real Twilio and Telegram channels (their
SDKs over loopback HTTP) to stand-ins that answer a steady share of requests with 429 (retry-after),
500, 503, a slow answer, a hang past the client's timeout or a dropped connection (those two after
the message was created). The stand-ins log what each request met and whether its message exists;
that log predicts how every outbox row must end, and the test holds the rows to it:

- only retryable faults, then success: sent, once, attempts = requests;
- a hang or a drop: unknown, never asked again (the message exists: a resend would be a duplicate);
- retryable faults max_attempts times: failed.

While every remaining row waits for its backoff, `Dispatcher.run` must wait, not spin; and waiting must
not turn into never waking.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Connection
from sqlmodel import col

from channels.base import Channel
from channels.standins.telegram import TelegramStandIn
from channels.standins.twilio import RETRYABLE_FAULTS, SteadyFaults, SteadyOutcome, TwilioStandIn
from channels.telegram import TelegramChannel
from channels.twilio_sms import TwilioChannel
from outreach.bootstrap import Services
from outreach.outbound.dispatcher import Dispatcher, DispatchPolicy
from storage.outbox import NewMessage, OutboxRepository
from storage.tables import ContactAddress, OutboxMessage
from tests.conftest import ManualClock
from tests.factories import add_resident, address_in_the_clear
from tests.providers import SMS_FROM as SENDER
from tests.providers import TELEGRAM_BOT_TOKEN as BOT_TOKEN
from tests.providers import TWILIO_ACCOUNT_SID as ACCOUNT_SID
from tests.providers import TWILIO_AUTH_TOKEN as AUTH_TOKEN

RESIDENTS_PER_CHANNEL = 150
MAX_ATTEMPTS = 3
BACKOFF_SECONDS = 2.0
RETRY_AFTER = 30  # far above the backoff: a retry that honours it is told apart from one that does not
POLL_SECONDS = 0.05
CLIENT_TIMEOUT = 4.0  # both channels: well above a slow answer (2 s was not, once, on a loaded machine), below a hang
FAULTS = SteadyFaults(
    rate_limited=0.15,
    server_error=0.1,
    unavailable=0.1,
    slow=0.1,
    hang=0.04,
    drop=0.04,
    retry_after=RETRY_AFTER,
    slow_seconds=0.1,
    hang_seconds=30.0,  # the stand-ins' stop releases them
    seed=8,
)
KEY = re.compile(r"fault:(?:sms|telegram):\d+")
FINAL = {"sent", "failed", "unknown"}


@dataclass
class Providers:
    twilio: TwilioStandIn
    telegram: TelegramStandIn
    channels: dict[str, Channel]  # the real TwilioChannel and TelegramChannel, by name
    telegram_texts: list[str]  # every message text the Telegram stand-in delivered, as it arrived

    def logs(self) -> dict[str, list[SteadyOutcome]]:
        return {"sms": self.twilio.steady_log, "telegram": self.telegram.steady_log}

    def request_count(self) -> int:
        return len(self.twilio.requests) + len(self.telegram.calls_to("sendMessage"))

    def delivered_keys(self) -> dict[str, Counter[str]]:
        """Per channel, how many times each outbox key reached a resident (read from what the stand-ins
        created, not from their fault logs)."""
        return {
            "sms": Counter(_key(message.body) for message in self.twilio.messages),
            "telegram": Counter(_key(text) for text in self.telegram_texts),
        }


def _key(text: str) -> str:
    found = KEY.search(text)
    assert found is not None, "a message without its outbox key reached a stand-in"
    return found.group()


@pytest.fixture
async def providers(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Providers]:
    monkeypatch.delenv("TWILIO_REGION", raising=False)
    monkeypatch.delenv("TWILIO_EDGE", raising=False)
    monkeypatch.setenv("PTB_TIMEDELTA", "1")  # what bootstrap sets: PTB's 429 handling warns otherwise
    async with (
        TwilioStandIn(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN) as twilio,
        TelegramStandIn(BOT_TOKEN) as telegram,
    ):
        texts: list[str] = []
        telegram.subscribe(lambda message: texts.append(str(message["text"])))
        sms = TwilioChannel(
            name="sms",
            account_sid=ACCOUNT_SID,
            auth_token=AUTH_TOKEN,
            api_base_url=twilio.base_url,
            public_url="http://127.0.0.1:9",
            sender=SENDER,
            timeout=CLIENT_TIMEOUT,
        )
        bot = TelegramChannel(
            token=BOT_TOKEN, api_base_url=telegram.base_url, webhook_secret=None, timeout=CLIENT_TIMEOUT
        )
        await sms.start()
        await bot.start()
        twilio.steady(FAULTS)
        telegram.steady(FAULTS)
        try:
            yield Providers(twilio, telegram, {"sms": sms, "telegram": bot}, texts)
        finally:
            await sms.close()
            await bot.close()


async def enqueue_one_message_each(services: Services) -> None:
    """A resident per address, one message each, its outbox key in its text (so what reached a stand-in
    names its row)."""
    for number in range(RESIDENTS_PER_CHANNEL):
        await add_resident(services, phone=f"+48600{number:06d}")
        await add_resident(services, telegram=str(900_000 + number))
    async with services.sessions() as session, session.begin():
        contacts = (await session.execute(select(ContactAddress))).scalars().all()
        outbox = OutboxRepository(session)
        for contact in contacts:
            assert contact.id is not None
            key = f"fault:{contact.channel}:{contact.id}"
            message = NewMessage(
                idempotency_key=key,
                resident_id=contact.resident_id,
                contact_id=contact.id,
                kind="question",
                text=f"Czy jeździsz tramwajem? ({key})",
            )
            assert await outbox.enqueue(message, now=services.clock())


async def rows(services: Services) -> list[tuple[OutboxMessage, ContactAddress]]:
    async with services.sessions() as session:
        result = await session.execute(
            select(OutboxMessage, ContactAddress)
            .join(ContactAddress, col(ContactAddress.id) == col(OutboxMessage.contact_id))
            .order_by(col(OutboxMessage.id))
        )
        return [(message, contact) for message, contact in result.all()]


def by_recipient(log: Iterable[SteadyOutcome]) -> dict[str, list[SteadyOutcome]]:
    requests: dict[str, list[SteadyOutcome]] = {}
    for outcome in sorted(log, key=lambda outcome: (outcome.recipient, outcome.number)):
        requests.setdefault(outcome.recipient, []).append(outcome)
    return requests


def expected_end(requests: list[SteadyOutcome]) -> tuple[str, int, str | None]:
    """(status, attempts, provider id) a row must end with, given what its requests met at the provider."""
    *earlier, last = requests
    # Only a request that surely created nothing may be followed by another: never resent after an effect.
    assert all(outcome.fault in RETRYABLE_FAULTS for outcome in earlier), [o.fault for o in requests]
    if last.fault in ("ok", "slow"):
        return "sent", len(requests), last.message_id
    if last.fault in ("hang", "drop"):
        return "unknown", len(requests), None  # the message exists, but the sender could not know its id
    return "failed", MAX_ATTEMPTS, None  # retryable to the last: only max_attempts may give up


def path(requests: list[SteadyOutcome]) -> str:
    status = expected_end(requests)[0]
    return f"{status} after retries" if len(requests) > 1 and status != "failed" else status


class StatementCounter:
    """Counts SQL statements (and claims among them) on an engine while installed."""

    def __init__(self) -> None:
        self.statements = 0
        self.claims = 0

    def __call__(self, connection: Connection, cursor: object, statement: str, *args: object) -> None:
        self.statements += 1
        if "status = 'claimed'" in statement and statement.lstrip().upper().startswith(("UPDATE", "WITH")):
            self.claims += 1


async def test_every_message_ends_sent_failed_or_unknown_and_none_twice(
    services: Services, clock: ManualClock, providers: Providers
) -> None:
    await enqueue_one_message_each(services)
    dispatcher = Dispatcher(
        services.sessions,
        providers.channels,
        worker_id="faults",
        policy=DispatchPolicy(
            concurrency=16, batch_size=100, max_attempts=MAX_ATTEMPTS, backoff_seconds=BACKOFF_SECONDS
        ),
        clock=clock,
        jitter=random.Random(8),
    )

    # First pass on a frozen clock: what met a retryable fault waits; a 429 at least its retry-after.
    await dispatcher.drain()
    first_faults = {
        recipient: requests[0].fault
        for log in providers.logs().values()
        for recipient, requests in by_recipient(log).items()
    }
    waiting = [(message, contact) for message, contact in await rows(services) if message.status not in FINAL]
    assert waiting, "the schedule retried nothing: the test would prove little"
    for message, contact in waiting:
        fault = first_faults[address_in_the_clear(services, contact)]
        assert (message.status, message.attempts, message.error_class, fault in RETRYABLE_FAULTS) == (
            "queued",
            1,
            "retryable",
            True,
        ), message.idempotency_key
        wait = message.next_attempt_at - clock.now
        if fault == "rate_limited":
            assert wait >= timedelta(seconds=RETRY_AFTER), message.idempotency_key
        else:  # exponential with jitter: between half and all of the first backoff
            assert timedelta(seconds=BACKOFF_SECONDS / 2) <= wait <= timedelta(seconds=BACKOFF_SECONDS)

    # From here the dispatcher runs as in `serve`: first it waits out the backoffs without spinning, then
    # the clock moves past them, again and again, and it sends what fell due until nothing is left.
    stopping = asyncio.Event()
    running = asyncio.create_task(dispatcher.run(stopping, poll_seconds=POLL_SECONDS))
    try:
        await assert_waits_without_spinning(services, providers)
        for _ in range(MAX_ATTEMPTS):
            due = [message.next_attempt_at for message, _ in await rows(services) if message.status == "queued"]
            if not due:
                break
            clock.now = max(due)
            await until_nothing_due(services, clock)
    finally:
        stopping.set()
        await asyncio.wait_for(running, timeout=10)
    ended = await rows(services)
    assert {message.status for message, _ in ended} <= FINAL

    # Every row ends as what its provider saw predicts.
    requests = {recipient: found for log in providers.logs().values() for recipient, found in by_recipient(log).items()}
    assert sorted(requests) == sorted(
        address_in_the_clear(services, contact) for _, contact in ended
    )  # every message was tried
    assert {
        message.idempotency_key: (message.status, message.attempts, message.provider_id) for message, _ in ended
    } == {
        message.idempotency_key: expected_end(requests[address_in_the_clear(services, contact)])
        for message, contact in ended
    }
    for message, _ in ended:
        expected_class = {"sent": None, "failed": "retryable", "unknown": "unknown"}[message.status]
        assert message.error_class == expected_class, message.idempotency_key

    # What reached residents, read from the stand-ins' own stores: each sent row's message exactly once,
    # each unknown row's at most once (here once: the stand-ins create before they hang or drop), a failed
    # row's never; no key twice.
    for channel, keys in providers.delivered_keys().items():
        assert max(keys.values()) == 1, f"{channel}: a resident got a message twice"
        statuses = {message.idempotency_key: message.status for message, c in ended if c.channel == channel}
        assert set(keys) == {key for key, status in statuses.items() if status in ("sent", "unknown")}, channel

    # The schedule exercised every path, on both channels.
    for channel, log in providers.logs().items():
        assert {outcome.fault for outcome in log} == {"ok", *(kind for kind, _ in FAULTS.shares())}, channel
        paths = Counter(path(found) for found in by_recipient(log).values())
        for end in ("sent", "sent after retries", "unknown", "unknown after retries", "failed"):
            assert paths[end] > 0, f"{channel}: no row ended {end}: {dict(paths)}"


async def assert_waits_without_spinning(services: Services, providers: Providers) -> None:
    """With every remaining row waiting for its backoff (the clock frozen), the running dispatcher polls
    now and then and sends nothing: few statements, little CPU, no request to a provider, no attempt spent."""
    window = 1.0
    before = {message.idempotency_key: message.attempts for message, _ in await rows(services)}
    requests_before = providers.request_count()
    counter = StatementCounter()
    event.listen(services.engine.sync_engine, "before_cursor_execute", counter)
    try:
        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.sleep(window)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        event.remove(services.engine.sync_engine, "before_cursor_execute", counter)
    polls = window / POLL_SECONDS
    assert 1 <= counter.claims <= polls + 2, f"{counter.claims} claims in {window}s polling every {POLL_SECONDS}s"
    assert counter.statements <= 6 * (polls + 2), f"{counter.statements} statements in {window}s of waiting"
    assert cpu < 0.3 * wall, f"{cpu:.3f}s of CPU in {wall:.3f}s of waiting"
    assert providers.request_count() == requests_before
    assert {message.idempotency_key: message.attempts for message, _ in await rows(services)} == before


async def until_nothing_due(services: Services, clock: ManualClock) -> None:
    """Until the running dispatcher has finished every row that is due (bounded: it must not stall)."""
    try:
        async with asyncio.timeout(15):
            while any(  # noqa: ASYNC110 (the dispatcher is another task; its effect is in the database)
                message.status in ("claimed", "sending")
                or (message.status == "queued" and message.next_attempt_at <= clock.now)
                for message, _ in await rows(services)
            ):
                await asyncio.sleep(POLL_SECONDS)
    except TimeoutError:
        pytest.fail("the running dispatcher left due messages unsent for 15 s")


async def test_an_idle_run_polls_again_after_a_claim_slower_than_its_poll(services: Services) -> None:
    """Waiting must not turn into never waking: a claim that takes longer than the poll interval (a lock
    held by another writer, a slow database) once stalled an idle `run` until a send finished, so a
    message queued later stayed queued for good."""
    poll_seconds = 0.05
    slowed: list[str] = []

    def slow_first_claim(connection: Connection, cursor: object, statement: str, *args: object) -> None:
        if "status = 'claimed'" in statement and not slowed:
            slowed.append(statement)
            time.sleep(3 * poll_seconds)  # blocks the claim, as a lock wait would

    dispatcher = Dispatcher(
        services.sessions, services.channels, worker_id="slow-claim", policy=DispatchPolicy(), clock=services.clock
    )
    event.listen(services.engine.sync_engine, "before_cursor_execute", slow_first_claim)
    stopping = asyncio.Event()
    running = asyncio.create_task(dispatcher.run(stopping, poll_seconds=poll_seconds))
    try:
        await asyncio.sleep(10 * poll_seconds)
        assert slowed, "the idle dispatcher never claimed"
        resident = await add_resident(services, phone="+48600100200")
        async with services.sessions() as session, session.begin():
            [contact] = (await session.execute(select(ContactAddress))).scalars().all()
            assert resident.id is not None and contact.id is not None
            await OutboxRepository(session).enqueue(
                NewMessage(
                    idempotency_key="late", resident_id=resident.id, contact_id=contact.id, kind="system", text="x"
                ),
                now=services.clock(),
            )
        statuses: list[str] = []
        for _ in range(40):  # two seconds: forty polls
            await asyncio.sleep(poll_seconds)
            statuses = [message.status for message, _ in await rows(services)]
            if statuses == ["sent"]:
                break
        assert statuses == ["sent"], "an idle dispatcher stopped polling after one slow claim"
    finally:
        stopping.set()
        await running
        event.remove(services.engine.sync_engine, "before_cursor_execute", slow_first_claim)
