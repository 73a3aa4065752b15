"""The outbox dispatcher: claim due rows atomically, send with bounded concurrency, record outcomes.

Delivery guarantee: a row is claimed by exactly one worker (storage.outbox). A send that surely did
not leave (SendError retryable) goes back to the queue with backoff; a send whose outcome is unknown
(any other exception, e.g. a connection dropped after the request was written) is recorded as
`unknown` and never resent automatically, so no resident gets a message twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import Channel, Choice, Outbound, SendError, Template, render_plain
from channels.sms_segments import count_segments
from outreach.clock import Clock
from outreach.definitions import CampaignDefinitions
from outreach.delivery import apply_early_report
from outreach.fallback import fall_back
from outreach.pricing import price_for
from outreach.quiet_hours import QuietHours, release_time, resident_zone
from outreach.rate_limits import RateLimiter, send_keys
from storage.campaigns import CampaignRepository
from storage.db import STORE_UNAVAILABLE, SessionFactory
from storage.outbox import ClaimedMessage, OutboxRepository
from storage.residents import ResidentRepository

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DispatchPolicy:
    concurrency: int = 8
    batch_size: int = 50
    max_attempts: int = 5
    backoff_seconds: float = 30.0
    quiet_spread: timedelta = timedelta(minutes=60)
    lease_seconds: float = 300.0  # a claim older than this belongs to a worker that died
    daily_cap: int = 10  # campaign messages per address per 24 h
    sms_prices: Mapping[str, float] = field(default_factory=dict)  # per segment, by number prefix


class Dispatcher:
    def __init__(
        self,
        sessions: SessionFactory,
        channels: Mapping[str, Channel],
        *,
        worker_id: str,
        policy: DispatchPolicy,
        clock: Clock,
        jitter: random.Random | None = None,
        definitions: CampaignDefinitions | None = None,
        limiter: RateLimiter | None = None,
        address_key: bytes = b"",
    ) -> None:
        self._limiter = limiter  # provider limits; None: unlimited (tests of other behaviour)
        self._key = address_key  # keys the per-chat limit's hashes: no chat id in Redis
        self._definitions = definitions  # with them, failed campaign questions fall back to other channels
        self._sessions = sessions
        self._channels = channels
        self._worker_id = worker_id
        self._policy = policy
        self._clock = clock
        self._jitter = jitter or random.Random()
        self._slots = asyncio.Semaphore(policy.concurrency)

    async def dispatch_once(self) -> int:
        """Claim one batch of due messages and send them; the number claimed."""
        async with self._sessions() as session, session.begin():
            claimed = await OutboxRepository(session).claim_due(
                worker=self._worker_id, now=self._clock(), limit=self._policy.batch_size
            )
        # One address's messages go one after another, in queue order (an intro before its question);
        # different addresses' go side by side.
        by_address: dict[int, list[ClaimedMessage]] = {}
        for message in claimed:
            by_address.setdefault(message.contact_id, []).append(message)
        await asyncio.gather(*(self._deliver_in_order(messages) for messages in by_address.values()))
        return len(claimed)

    async def _deliver_in_order(self, messages: list[ClaimedMessage]) -> None:
        for message in messages:
            await self._deliver(message)

    async def drain(self) -> int:
        """Send until nothing is due; the number of messages handled."""
        total = 0
        while handled := await self.dispatch_once():
            total += handled
        return total

    async def close(self) -> None:
        if self._limiter is not None:
            await self._limiter.close()

    async def recover_stale_claims(self) -> tuple[int, int]:
        """Rows a crashed worker held longer than the lease: (requeued, marked unknown)."""
        cutoff = self._clock() - timedelta(seconds=self._policy.lease_seconds)
        async with self._sessions() as session, session.begin():
            return await OutboxRepository(session).recover_stale(older_than=cutoff)

    async def release_claims(self) -> int:
        async with self._sessions() as session, session.begin():
            return await OutboxRepository(session).release_claims(self._worker_id)

    async def run(self, stopping: asyncio.Event, poll_seconds: float) -> None:
        """Dispatch until `stopping` is set; between empty polls, wait without spinning. A database
        outage pauses sending; the loop goes on by itself when the database is back."""
        while not stopping.is_set():
            try:
                handled = await self.dispatch_once()
            except STORE_UNAVAILABLE as error:
                log.warning("dispatcher: store unavailable (%s); retrying", type(error).__name__)
                handled = 0
            if handled == 0:
                with contextlib.suppress(*STORE_UNAVAILABLE):
                    await self.recover_stale_claims()  # idle: look after workers that died
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), timeout=poll_seconds)
        with contextlib.suppress(*STORE_UNAVAILABLE):
            await self.release_claims()  # SIGTERM: sends in flight finished; unstarted ones go back

    async def _deliver(self, message: ClaimedMessage) -> None:
        async with self._slots:
            if await self._deferred_for_quiet_hours(message) or await self._deferred_for_daily_cap(message):
                return
            channel = self._channels.get(message.channel)
            if channel is None:
                await self._record_failure(message, "permanent", f"channel {message.channel} is not enabled")
                return
            outbound = self._outbound(message)
            # What the provider counts: SMS segments (counted once here for budget, limit and cost).
            units = count_segments(render_plain(outbound)).segments if message.channel == "sms" else 1
            if await self._over_budget(message, units):
                return
            if self._limiter is not None:
                # Waits for this send's slot under the provider's limits. Still "claimed" meanwhile:
                # a crash now sends it elsewhere.
                keys = send_keys(
                    message.channel, sender=message.channel, address=message.address, cost=units, secret=self._key
                )
                try:
                    # Bounded well inside the claim's lease: a long Redis outage must not let another
                    # worker take the row over while this one still means to send it.
                    async with asyncio.timeout(self._policy.lease_seconds / 2):
                        await self._limiter.acquire_all(keys)
                except TimeoutError:
                    async with self._sessions() as session, session.begin():
                        await OutboxRepository(session).release_claim(message.id)
                    return
            async with self._sessions() as session, session.begin():
                await OutboxRepository(session).mark_sending(message.id, now=self._clock())
            try:
                sent = await channel.send(outbound)
            except SendError as error:
                await self._record_send_error(message, error)
            except Exception as error:  # the request may have reached the provider: never resend
                log.warning("outbox %s: outcome unknown (%s)", message.id, type(error).__name__)
                async with self._sessions() as session, session.begin():
                    await OutboxRepository(session).mark_unknown(message.id, detail=type(error).__name__)
            else:
                async with self._sessions() as session, session.begin():
                    await OutboxRepository(session).mark_sent(
                        message.id, provider_id=sent.provider_id, now=self._clock(), segments=sent.segments
                    )
                    await apply_early_report(session, sent.provider_id, clock=self._clock)
                    cost = self._sms_cost(message, sent.segments or units)
                    if cost and message.campaign_id is not None:
                        await CampaignRepository(session).add_spent(message.campaign_id, cost)

    @staticmethod
    def _outbound(message: ClaimedMessage) -> Outbound:
        return Outbound(
            key=message.idempotency_key,
            channel=message.channel,
            address=message.address,
            text=message.text,
            choices=tuple(Choice(key=c["key"], label=c["label"]) for c in message.choices),
            choice_style=message.choice_style,
            template=Template(message.template["content_sid"], message.template["variables"])
            if message.template
            else None,
        )

    def _sms_cost(self, message: ClaimedMessage, segments: int) -> float:
        """What an SMS of `segments` costs at its destination's price; 0 for other channels."""
        if message.channel != "sms" or not self._policy.sms_prices:
            return 0.0
        price, _ = price_for(message.address, self._policy.sms_prices)
        return segments * price

    async def _deferred_for_daily_cap(self, message: ClaimedMessage) -> bool:
        """No address gets more than `daily_cap` campaign messages in 24 hours; the rest wait."""
        if message.kind == "system":
            return False  # a reply to what the resident just asked (STOP, HELP) always goes
        now = self._clock()
        async with self._sessions() as session:
            count, oldest = await OutboxRepository(session).sent_to_since(message.contact_id, now - timedelta(days=1))
        if count < self._policy.daily_cap or oldest is None:
            return False
        async with self._sessions() as session, session.begin():
            await OutboxRepository(session).defer(message.id, until=oldest + timedelta(days=1))
        log.info("outbox %s: daily cap of the address reached; waits", message.id)
        return True

    async def _over_budget(self, message: ClaimedMessage, segments: int) -> bool:
        """A campaign with a budget stops before the SMS that would exceed it: the campaign pauses,
        says why, and its messages wait (an official may raise the budget and resume)."""
        cost = self._sms_cost(message, segments)
        if not cost or message.campaign_id is None or self._definitions is None:
            return False
        async with self._sessions() as session, session.begin():
            campaigns = CampaignRepository(session)
            record = await campaigns.get(message.campaign_id)
            budget = self._definitions.flow(record).budget
            if budget is None or record.spent + cost <= budget:
                return False
            assert record.id is not None
            outbox = OutboxRepository(session)
            await outbox.hold(message.id)
            if record.status == "active":
                await outbox.hold_campaign(record.id)
                paused = await campaigns.set_status(record.id, "paused", now=self._clock())
                paused.paused_because = f"budget reached: spent {record.spent:.2f} of {budget:.2f}"
                session.add(paused)
        log.warning("campaign %s: SMS budget reached; paused", message.campaign_id)
        return True

    async def _deferred_for_quiet_hours(self, message: ClaimedMessage) -> bool:
        """A retry (or a slow queue) must not carry a message into the night either."""
        if message.quiet_hours is None:
            return False
        now = self._clock()
        window = QuietHours.parse(message.quiet_hours)
        zone = resident_zone(message.timezone)
        release = release_time(now, window, zone, key=message.idempotency_key, spread=self._policy.quiet_spread)
        if release <= now:
            return False
        async with self._sessions() as session, session.begin():
            await OutboxRepository(session).defer(message.id, until=release)
        return True

    async def _record_send_error(self, message: ClaimedMessage, error: SendError) -> None:
        detail = str(error)[:500]
        if error.stop_contact:
            async with self._sessions() as session, session.begin():
                await ResidentRepository(session).opt_out_contact(message.contact_id, now=self._clock())
                await OutboxRepository(session).mark_failed(message.id, error_class="stop_contact", detail=detail)
                await self._fall_back(session, message)
            log.info("outbox %s: address stopped by provider", message.id)
            return
        if error.address_invalid:
            async with self._sessions() as session, session.begin():
                await ResidentRepository(session).mark_unreachable(message.contact_id, now=self._clock())
                await OutboxRepository(session).mark_failed(message.id, error_class="permanent", detail=detail)
                await self._fall_back(session, message)
            log.info("outbox %s: address unreachable", message.id)
            return
        if error.retryable and message.attempts < self._policy.max_attempts:
            delay = self._backoff(message.attempts, error.retry_after)
            async with self._sessions() as session, session.begin():
                await OutboxRepository(session).mark_retry(
                    message.id, at=self._clock() + timedelta(seconds=delay), detail=detail
                )
            log.info("outbox %s: retry %d in %.1fs", message.id, message.attempts, delay)
            return
        await self._record_failure(message, "retryable" if error.retryable else "permanent", detail)

    async def _record_failure(self, message: ClaimedMessage, error_class: str, detail: str) -> None:
        async with self._sessions() as session, session.begin():
            await OutboxRepository(session).mark_failed(message.id, error_class=error_class, detail=detail)
            await self._fall_back(session, message)
        log.info("outbox %s: failed (%s)", message.id, error_class)

    async def _fall_back(self, session: AsyncSession, message: ClaimedMessage) -> None:
        """A campaign question that cannot reach this address goes to the resident's next channel."""
        if self._definitions is None or message.kind != "question" or message.campaign_id is None:
            return
        assert message.resident_id is not None
        await fall_back(
            session,
            campaign_id=message.campaign_id,
            resident_id=message.resident_id,
            failed_contact_id=message.contact_id,
            definitions=self._definitions,
            now=self._clock(),
            spread=self._policy.quiet_spread,
        )

    def _backoff(self, attempts: int, retry_after: float | None) -> float:
        """Exponential with jitter, never shorter than what the provider asked for."""
        exponential = self._policy.backoff_seconds * 2.0 ** (attempts - 1)
        jittered = exponential * (0.5 + self._jitter.random() / 2)
        return max(jittered, retry_after or 0.0)
