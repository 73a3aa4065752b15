"""Sends of unknown outcome, reconciled: the decision per channel and kind (pure), then end to end
against the Twilio stand-in's Messages list (confirmed, never seen, lagging) and a channel with no list
(Telegram: straight to the campaign's on_unknown policy), with exactly one extra send for a resend."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any, ClassVar

import pytest

from channels.base import Capabilities, Inbound, Outbound, Request, Sent, SentLookup
from channels.standins.twilio import TwilioStandIn
from channels.twilio_sms import TwilioChannel
from flows.unknown_outcomes import OnUnknown
from outreach.bootstrap import Services
from outreach.campaigns.commands import campaign_status
from outreach.cli.unknown_lines import status_lines
from outreach.outbound.dispatcher import Dispatcher, DispatchPolicy
from outreach.outbound.unknown_sends import Decision, decide, message_kind
from storage.unknown_sends import UnknownSendRepository
from tests.conftest import ManualClock
from tests.factories import add_resident
from tests.outreach.helpers import CAMPAIGN_YAML, launch, outbox, reply
from tests.providers import SMS_FROM, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN

PHONE = "+48600100200"
HOUR = timedelta(hours=1)
FOUND, NOT_SEEN, UNSURE = SentLookup(provider_id="SM1"), SentLookup(settled=True), SentLookup()


@pytest.mark.parametrize(
    ("key", "kind", "expected"),
    [
        ("q:1:2:visits:0", "question", "question"),
        ("q:1:2:visits:1", "question", "question"),  # a re-ask
        ("q:1:2:visits:r1", "question", "reminder"),
        ("q:1:2:visits:r2via-email", "question", "reminder"),  # a reminder after a fallback
        ("q:1:2:rating:0", "question", "question"),  # a question whose id begins with r
        ("say:1:2:outro", "say", "closing"),
        ("results:1:2", "results", "results_back"),
        ("sys:stop:9", "system", "system"),
    ],
)
def test_the_kind_of_a_message(key: str, kind: str, expected: str) -> None:
    assert message_kind(kind, key) == expected


@pytest.mark.parametrize(
    ("channel", "lookup", "kind", "waited", "decision"),
    [
        ("sms", FOUND, "closing", timedelta(minutes=1), "confirm"),  # Twilio has it: sent, whatever the kind
        ("sms", NOT_SEEN, "closing", timedelta(minutes=6), "requeue"),  # surely never sent: queued again
        ("sms", UNSURE, "question", timedelta(minutes=1), "wait"),  # Twilio's list may lag yet
        ("sms", UNSURE, "question", 2 * HOUR, "resend"),  # out of patience: the policy
        ("sms", UNSURE, "closing", 2 * HOUR, "give_up"),
        ("telegram", None, "question", timedelta(0), "resend"),  # no list to ask: the policy at once
        ("telegram", None, "reminder", timedelta(0), "resend"),
        ("telegram", None, "closing", timedelta(0), "give_up"),
        ("telegram", None, "results_back", timedelta(0), "give_up"),
        ("telegram", None, "system", timedelta(0), "give_up"),
        ("email", None, "question", timedelta(0), "resend"),
    ],
)
def test_the_decision_per_channel_and_kind(
    channel: str, lookup: SentLookup | None, kind: str, waited: timedelta, decision: str
) -> None:
    assert decide(lookup, kind, OnUnknown(), waited=waited, patience=HOUR) == decision


def test_a_campaigns_policy_overrides_the_defaults() -> None:
    policy = OnUnknown(question="give_up", closing="resend")
    assert decide(None, "question", policy, waited=timedelta(0), patience=HOUR) == "give_up"
    assert decide(None, "closing", policy, waited=timedelta(0), patience=HOUR) == "resend"


@pytest.fixture
async def twilio(clock: ManualClock) -> AsyncIterator[TwilioStandIn]:
    # Twilio's clock is ours here, so the send's window and the list's lag are both under the test's hand.
    async with TwilioStandIn(account_sid=TWILIO_ACCOUNT_SID, auth_token=TWILIO_AUTH_TOKEN, clock=clock) as standin:
        yield standin


@pytest.fixture
async def sms(twilio: TwilioStandIn) -> AsyncIterator[TwilioChannel]:
    channel = TwilioChannel(
        name="sms",
        account_sid=TWILIO_ACCOUNT_SID,
        auth_token=TWILIO_AUTH_TOKEN,
        api_base_url=twilio.base_url,
        public_url="https://outreach.example.gda.pl",
        sender=SMS_FROM,
        # No test here waits for it (the stand-in drops or answers at once); a loaded CI machine took
        # over 2 s to bring a stand-in's answer back (tests/scenarios/test_dispatch_faults.py).
        timeout=4.0,
    )
    await channel.start()
    yield channel
    await channel.close()


def dispatcher(services: Services, **channels: Any) -> Dispatcher:
    return Dispatcher(
        services.sessions,
        channels,
        worker_id="reconciling",
        policy=DispatchPolicy(concurrency=2, batch_size=10),
        clock=services.clock,
        jitter=random.Random(1),
        definitions=services.definitions,
    )


async def unknown_outcomes(services: Services, campaign_id: int) -> dict[str, int]:
    async with services.sessions() as session:
        counts = await UnknownSendRepository(session).count_unknown_outcomes(campaign_id)
    return {outcome: count for outcome, count in counts.items() if count}


async def test_a_send_twilio_never_got_goes_back_to_the_queue_once_the_grace_passed(
    services: Services, clock: ManualClock, twilio: TwilioStandIn, sms: TwilioChannel
) -> None:
    await add_resident(services, phone=PHONE)
    campaign_id = await launch(services)
    twilio.drop_next()  # read, never created, the connection closed: the sender cannot tell
    worker = dispatcher(services, sms=sms)
    await worker.drain()
    assert [m.status for m in await outbox(services)] == ["unknown"]
    clock.advance(minutes=1)
    assert sum((await worker.reconcile_unknown()).values()) == 0  # Twilio's list may still lag
    clock.advance(minutes=5)
    assert await worker.reconcile_unknown() == {"requeue": 1}
    await worker.drain()
    [message] = await outbox(services)
    assert (message.status, message.provider_id) == ("sent", twilio.messages[0].sid)
    assert len(twilio.messages) == 1  # it reached the resident exactly once
    assert await unknown_outcomes(services, campaign_id) == {"not_seen": 1}


async def test_a_send_twilio_created_is_confirmed_with_its_sid_and_not_sent_again(
    services: Services, clock: ManualClock, twilio: TwilioStandIn, sms: TwilioChannel
) -> None:
    await add_resident(services, phone=PHONE)
    campaign_id = await launch(services)
    twilio.list_lag = timedelta(minutes=2)  # Twilio lists it only once it left its queue
    twilio.gateway_error_next()  # created, then a 504 from a gateway in front of Twilio
    worker = dispatcher(services, sms=sms)
    await worker.drain()
    assert [m.status for m in await outbox(services)] == ["unknown"]
    clock.advance(minutes=1)
    assert sum((await worker.reconcile_unknown()).values()) == 0
    clock.advance(minutes=2)
    assert await worker.reconcile_unknown() == {"confirm": 1}
    assert await worker.drain() == 0
    [message] = await outbox(services)
    assert (message.status, message.provider_id) == ("sent", twilio.messages[0].sid)
    assert len(twilio.messages) == 1
    assert await unknown_outcomes(services, campaign_id) == {"confirmed": 1}


class LosingChannel:
    """Telegram whose connection drops after the request went out, for the keys in `lost`."""

    capabilities: ClassVar[Capabilities] = Capabilities(max_length=4096, buttons=True)
    name = "telegram"

    def __init__(self, lost: set[str]) -> None:
        self.lost = lost
        self.delivered: list[str] = []  # what reached the resident, lost answers included

    def verify(self, request: Request) -> bool:
        return False

    def parse_inbound(self, request: Request) -> list[Inbound]:
        return []

    async def send(self, outbound: Outbound) -> Sent:
        self.delivered.append(outbound.key)
        if outbound.key in self.lost:
            self.lost.discard(outbound.key)
            raise ConnectionResetError("dropped after the request was written")
        return Sent(provider_id=str(len(self.delivered)))


async def test_telegram_goes_straight_to_the_policy_a_question_resent_once_a_closing_given_up(
    services: Services, clock: ManualClock
) -> None:
    resident = await add_resident(services, telegram="555")
    campaign_id = await launch(services, CAMPAIGN_YAML.replace("channels: [sms, email]", "channels: [telegram]"))
    [question] = await outbox(services)
    channel = LosingChannel({question.idempotency_key})
    worker = dispatcher(services, telegram=channel)
    await worker.drain()
    assert await worker.reconcile_unknown() == {"resend": 1}
    await worker.drain()
    assert channel.delivered == [question.idempotency_key] * 2  # exactly one extra send
    # The resident says no: the closing thank-you goes, and its answer is lost too.
    closing_key = f"say:{campaign_id}:{resident.id}:outro"
    channel.lost.add(closing_key)
    await reply(services, "555", "nie", channel="telegram")
    await worker.drain()
    assert await worker.reconcile_unknown() == {"give_up": 1}
    await worker.drain()
    assert channel.delivered.count(closing_key) == 1
    assert await worker.reconcile_unknown() == {}  # given up for good
    assert await unknown_outcomes(services, campaign_id) == {"resent": 1, "given_up": 1}
    status = await campaign_status(services.sessions, str(campaign_id))  # what `campaign status` prints
    assert status_lines(status.unknown_outcomes) == [
        "sends of unknown outcome: 1 resent (on_unknown), 1 given up (on_unknown)"
    ]
    statuses = {m.idempotency_key: m.status for m in await outbox(services)}
    assert (statuses[question.idempotency_key], statuses[closing_key]) == ("sent", "unknown")


async def test_a_send_cancelled_mid_request_is_left_unknown_not_sending(services: Services) -> None:
    await add_resident(services, telegram="555")
    await launch(services, CAMPAIGN_YAML.replace("channels: [sms, email]", "channels: [telegram]"))
    sending: list[asyncio.Task[Any]] = []
    started = asyncio.Event()

    class Hanging(LosingChannel):
        async def send(self, outbound: Outbound) -> Sent:
            sending.append(asyncio.current_task())  # type: ignore[arg-type]
            started.set()
            await asyncio.Event().wait()  # the provider never answers
            raise AssertionError

    stopping = asyncio.Event()
    running = asyncio.create_task(dispatcher(services, telegram=Hanging(set())).run(stopping, poll_seconds=60))
    await asyncio.wait_for(started.wait(), 10)
    sending[0].cancel()  # what a shutdown that will not wait does to every task left
    stopping.set()
    await asyncio.wait_for(running, 10)
    assert [(m.status, m.error_detail) for m in await outbox(services)] == [("unknown", "cancelled")]


@pytest.mark.parametrize("passes", [0, 1])
async def test_a_running_dispatcher_reconciles_one_period_after_its_start_not_at_it(
    services: Services, monkeypatch: pytest.MonkeyPatch, passes: int
) -> None:
    """Not at the start: that pass raced the first claims for connections (a stop test's first send lost
    its limiter slot to the second on PostgreSQL) and acted on unknown sends a fault test was counting."""
    await add_resident(services, telegram="555")
    campaign_id = await launch(services, CAMPAIGN_YAML.replace("channels: [sms, email]", "channels: [telegram]"))
    [question] = await outbox(services)
    channel = LosingChannel({question.idempotency_key})
    await dispatcher(services, telegram=channel).drain()  # unknown: Telegram's question is resent at a pass
    period = 0.01 if passes else 3600.0
    worker = Dispatcher(
        services.sessions,
        {"telegram": channel},
        worker_id="running",
        policy=DispatchPolicy(reconcile_seconds=period),
        clock=services.clock,
        definitions=services.definitions,
    )
    reconciled = asyncio.Event()
    reconcile = worker.reconcile_unknown

    async def observed() -> Counter[Decision]:
        decided = await reconcile()
        if decided:
            reconciled.set()
        return decided

    monkeypatch.setattr(worker, "reconcile_unknown", observed)
    stopping = asyncio.Event()
    running = asyncio.create_task(worker.run(stopping, poll_seconds=60))
    if passes:  # a pass a period later
        await asyncio.wait_for(reconciled.wait(), 10)
    else:  # the start (and its first claim) under way, then a stop: no pass began
        for _ in range(50):
            await asyncio.sleep(0)
    stopping.set()
    await asyncio.wait_for(running, 10)
    assert await unknown_outcomes(services, campaign_id) == ({"resent": 1} if passes else {})
