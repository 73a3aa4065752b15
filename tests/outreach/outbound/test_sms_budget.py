"""A campaign's SMS budget under the dispatcher: each send reserves its cost atomically before it goes,
sends at once never spend past the budget together, a send that surely never left gives its cost back,
one of unknown outcome keeps it (and reconciliation's answer settles it)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import ClassVar

import pytest

from channels.base import Capabilities, Inbound, Outbound, Request, SendError, Sent, SentLookup
from outreach.bootstrap import Services
from outreach.outbound.dispatcher import Dispatcher, DispatchPolicy
from storage.campaigns import CampaignRepository
from storage.outbox import NewMessage, OutboxRepository
from storage.tables import CampaignRecord
from tests.factories import add_resident
from tests.outreach.helpers import CAMPAIGN_YAML, launch, outbox

PRICES = {"+48": 0.08}  # per segment; every opening here is one segment
GUARD_SECONDS = 10


class Provider:
    """An SMS provider that answers as `answer` says; with `gate`, each send waits for it to open."""

    name = "sms"
    capabilities: ClassVar[Capabilities] = Capabilities(max_length=160)

    def __init__(self, answer: Callable[[Outbound], Sent], *, gate: asyncio.Event | None = None) -> None:
        self._answer = answer
        self._gate = gate
        self.calls: list[str] = []
        self.called = asyncio.Event()

    def verify(self, request: Request) -> bool:
        return False

    def parse_inbound(self, request: Request) -> list[Inbound]:
        return []

    async def send(self, outbound: Outbound) -> Sent:
        self.calls.append(outbound.key)
        self.called.set()
        if self._gate is not None:
            await self._gate.wait()
        return self._answer(outbound)


class Listed(Provider):
    """A provider with a list of what it sent (as Twilio's Messages list), answering `lookup`."""

    def __init__(self, answer: Callable[[Outbound], Sent], lookup: SentLookup) -> None:
        super().__init__(answer)
        self.lookup = lookup

    async def find_sent(self, outbound: Outbound, *, started_at: datetime, now: datetime) -> SentLookup:
        return self.lookup


def sent(outbound: Outbound) -> Sent:
    return Sent(outbound.key, segments=1)


def dispatcher(services: Services, provider: Provider, **policy: object) -> Dispatcher:
    return Dispatcher(
        services.sessions,
        {"sms": provider},
        worker_id="test-worker",
        policy=DispatchPolicy(sms_prices=PRICES, backoff_seconds=10, **policy),  # type: ignore[arg-type]
        clock=services.clock,
        definitions=services.definitions,
    )


async def campaign_with(services: Services, residents: int, budget: str | None) -> int:
    for number in range(residents):
        await add_resident(services, phone=f"+4860010020{number}")
    return await launch(services, CAMPAIGN_YAML + (f"budget: {budget}\n" if budget else ""))


async def campaign(services: Services, campaign_id: int) -> CampaignRecord:
    async with services.sessions() as session:
        return await CampaignRepository(session).get(campaign_id)


async def test_sends_at_once_never_spend_past_the_budget(services: Services) -> None:
    """Eight openings at once (the default concurrency) against 0.30 at 0.08 each: three go. Checked
    before and added after the send, all eight passed the check (0.56 of 0.30 was spent, 7 SMS)."""
    campaign_id = await campaign_with(services, 8, "0.30")
    gate = asyncio.Event()
    provider = Provider(sent, gate=gate)  # every send waits with the provider: all of them at once
    draining = asyncio.create_task(dispatcher(services, provider).drain())
    while len(provider.calls) < 3:
        provider.called.clear()
        await asyncio.wait_for(provider.called.wait(), GUARD_SECONDS)
    await asyncio.sleep(0.05)  # room for a fourth send to start, if anything would let it
    gate.set()
    await asyncio.wait_for(draining, GUARD_SECONDS)
    assert len(provider.calls) == 3
    record = await campaign(services, campaign_id)
    assert record.spent == pytest.approx(0.24)
    assert (record.status, record.paused_because) == ("paused", "budget reached: spent 0.24 of 0.30")
    assert sorted(message.status for message in await outbox(services)) == ["held"] * 5 + ["sent"] * 3


@pytest.mark.parametrize(
    ("answer", "status", "spent"),
    [
        (sent, "sent", 0.08),
        (lambda outbound: Sent(outbound.key, segments=2), "sent", 0.16),  # the provider's count is the bill
        (SendError("HTTP 503", retryable=True), "queued", 0.0),  # surely never left: given back
        (SendError("HTTP 400 invalid number", retryable=False, address_invalid=True), "failed", 0.0),
        (SendError("HTTP 400", retryable=False), "failed", 0.0),
        (ConnectionResetError("after the request"), "unknown", 0.08),  # may have left: kept
    ],
)
async def test_a_send_keeps_its_reservation_unless_it_surely_never_left(
    services: Services, answer: Callable[[Outbound], Sent] | Exception, status: str, spent: float
) -> None:
    campaign_id = await campaign_with(services, 1, "0.30")

    def respond(outbound: Outbound) -> Sent:
        if isinstance(answer, Exception):
            raise answer
        return answer(outbound)

    await dispatcher(services, Provider(respond), max_attempts=3).drain()
    [message] = await outbox(services)
    assert message.status == status
    assert (await campaign(services, campaign_id)).spent == pytest.approx(spent)
    assert message.cost == (pytest.approx(spent) if spent else None)


async def test_stopping_while_a_send_waits_for_its_slot_gives_nothing_to_hold(services: Services) -> None:
    """A claim handed back on stop was never reserved: the reservation is taken with the send's start."""
    from outreach.outbound.rate_limits import GcraLimiter, standard_policy

    campaign_id = await campaign_with(services, 2, "0.30")
    gate = asyncio.Event()
    provider = Provider(sent, gate=gate)
    worker = Dispatcher(
        services.sessions,
        {"sms": provider},
        worker_id="test-worker",
        policy=DispatchPolicy(sms_prices=PRICES, slot_tolerance=GUARD_SECONDS),
        clock=services.clock,
        definitions=services.definitions,
        limiter=GcraLimiter(standard_policy(sms_segments_per_second=0.001, headroom=1.0)),  # one slot
    )
    stopping = asyncio.Event()
    running = asyncio.create_task(worker.run(stopping, poll_seconds=60))
    await asyncio.wait_for(provider.called.wait(), GUARD_SECONDS)
    assert (await campaign(services, campaign_id)).spent == pytest.approx(0.08)  # held before the send
    stopping.set()
    gate.set()
    await asyncio.wait_for(running, GUARD_SECONDS)
    assert sorted(message.status for message in await outbox(services)) == ["queued", "sent"]
    assert (await campaign(services, campaign_id)).spent == pytest.approx(0.08)


@pytest.mark.parametrize(
    ("lookup", "decided", "status", "spent"),
    [
        (SentLookup(provider_id="SM1"), "confirm", "sent", 0.08),  # sent after all: spent
        (SentLookup(settled=True), "requeue", "queued", 0.0),  # the provider never had it: given back
    ],
)
async def test_reconciliation_settles_what_an_unknown_send_holds(
    services: Services, lookup: SentLookup, decided: str, status: str, spent: float
) -> None:
    campaign_id = await campaign_with(services, 1, "0.30")

    def lost(outbound: Outbound) -> Sent:
        raise ConnectionResetError("after the request")

    provider = Listed(lost, lookup)
    worker = dispatcher(services, provider)
    await worker.drain()
    assert (await campaign(services, campaign_id)).spent == pytest.approx(0.08)  # unknown: kept meanwhile
    assert await worker.reconcile_unknown() == {decided: 1}
    [message] = await outbox(services)
    assert message.status == status
    assert (await campaign(services, campaign_id)).spent == pytest.approx(spent)


async def test_results_back_over_the_budget_of_a_closed_campaign_fails_and_says_why(services: Services) -> None:
    """A closed campaign cannot be resumed, so its results-back SMS that would pass the budget fails
    with the reason, instead of waiting as `held` for good."""
    campaign_id = await campaign_with(services, 1, "0.10")
    await dispatcher(services, Provider(sent)).drain()  # the opening: 0.08 of 0.10
    [opening] = await outbox(services)
    async with services.sessions() as session, session.begin():
        await CampaignRepository(session).set_status(campaign_id, "closed", now=services.clock())
        message = NewMessage(
            f"results:{campaign_id}:1", opening.resident_id, opening.contact_id, "results", "Wyniki", campaign_id
        )
        assert await OutboxRepository(session).enqueue(message, now=services.clock())
    provider = Provider(sent)
    await dispatcher(services, provider).drain()
    assert provider.calls == []
    results = [message for message in await outbox(services) if message.kind == "results"]
    assert [(m.status, m.error_class, m.error_detail) for m in results] == [
        ("failed", "over_budget", "SMS budget reached after the close: spent 0.08 of 0.10")
    ]
    assert (await campaign(services, campaign_id)).status == "closed"
