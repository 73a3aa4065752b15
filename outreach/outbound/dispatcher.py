"""The outbox dispatcher: claim due rows atomically, send each channel at its provider's pace, record outcomes.

Delivery guarantee: a row is claimed by exactly one worker (storage.outbox). A send that surely did
not leave (SendError retryable) goes back to the queue with backoff; a send whose outcome is unknown
(any other exception, e.g. a connection dropped after the request was written) is recorded as
`unknown` and never resent blindly: reconciliation (outreach.outbound.reconciliation, run beside the
sends) asks the provider where it can answer and otherwise applies the campaign's on_unknown policy.
The window for an unknown outcome is kept small: a send is marked `sending` only once its limiter slot
is granted, in the last `start_lead` (30 ms) before it, so that the request goes out at the slot
(outreach.outbound.send_slots), and never waits in `sending` for anything else (a late mark takes its
fresh slot as `claimed` again); a worker that stops cleanly leaves nothing in `sending`.

Budget (outreach.outbound.sms_budget): an SMS reserves its cost as it is marked `sending`, atomically;
given back when the send surely never left (a SendError, a late mark, reconciliation's "not seen").

Pace: `run` is a pipeline, not a loop of batches. Each enabled channel has a lane: its own pool of
sends in flight (a slow SMS number never holds up Telegram) and its own claims, taken again as soon as
fewer than half a batch of its claimed messages are unfinished, so the rate limiter always has the next
sends waiting while a claim's stragglers finish. One address's messages go one after another in queue
order, across claims too (an intro before its question): each address has a chain of pending messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import Channel, Outbound, SendError, Sent, render_plain
from channels.sms_segments import count_segments
from outreach import faults
from outreach.campaigns.parsed_flows import CampaignDefinitions
from outreach.campaigns.quiet_hours import QuietHours, release_time, resident_zone
from outreach.clock import Clock
from outreach.outbound.delivery_status import apply_early_report
from outreach.outbound.dispatch_policy import DispatchPolicy as DispatchPolicy  # its home for callers
from outreach.outbound.fallback import fall_back
from outreach.outbound.lanes import Lane, Pump, first_of, unless_halted
from outreach.outbound.rate_limits import Item, RateLimiter, Reservation
from outreach.outbound.reconciliation import Reconciliation, outbound_of
from outreach.outbound.send_slots import SendSlots
from outreach.outbound.sms_budget import SmsBudget
from outreach.outbound.unknown_sends import Decision
from outreach.store_errors import StoreErrors
from outreach.telemetry import NO_TELEMETRY, Telemetry
from storage import sms_spend
from storage.consent_ledger import Because, Source
from storage.db import STORE_UNAVAILABLE, SessionFactory, read_session
from storage.outbox import ClaimedMessage, OutboxRepository
from storage.residents import ResidentRepository

log = logging.getLogger(__name__)
MAX_LATE_MARKS = 1  # a send whose start was recorded late again, after its fresh slot, goes anyway


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
        telemetry: Telemetry = NO_TELEMETRY,
        write_turn: asyncio.Lock | None = None,  # SQLite: the process's writers' turn (Services.write_turn)
    ) -> None:
        self._telemetry = telemetry
        self._store_errors = StoreErrors("dispatcher", telemetry)  # an outage waits a poll, a defect longer
        self.late_writes = 0  # sends that took a fresh slot because recording their start was slow
        self._definitions = definitions  # with them, failed campaign questions fall back to other channels
        self._budget = SmsBudget(policy.sms_prices, definitions, clock)
        self._sessions = sessions
        self._channels = channels
        self._worker_id = worker_id
        self._policy = policy
        self._clock = clock
        self._jitter = jitter or random.Random()
        bind = sessions.kw.get("bind")
        on_sqlite = bind is not None and bind.dialect.name == "sqlite"
        self._writes = (write_turn or asyncio.Lock()) if on_sqlite else None
        # One pool of sends in flight per channel, kept across passes; None: channels not enabled here.
        self._pools: dict[str | None, asyncio.Semaphore] = {
            name: asyncio.Semaphore(policy.pool_size(name)) for name in [*channels, None]
        }
        self._slots = SendSlots(
            limiter, self._transaction, policy=policy, clock=clock, address_key=address_key, telemetry=telemetry
        )
        self._reconciliation = Reconciliation(
            sessions,
            self._transaction,
            channels,
            clock=clock,
            definitions=definitions,
            patience=policy.unknown_patience,
        )

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncSession]:
        """One write transaction. On SQLite this process's writes queue here, in order, and not in
        SQLite's busy handler, whose growing sleeps (up to 100 ms) let a burst of writers (every pool
        filling at once) leave the lock idle and the limiter without senders for a second."""
        async with self._writes or contextlib.nullcontext(), self._sessions() as session, session.begin():
            yield session

    def _pump(self) -> Pump:
        lanes = {name: Lane(name, pool) for name, pool in self._pools.items()}
        return Pump(lanes, self._deliver, self._policy.low_water)

    async def dispatch_once(self) -> int:
        """Claim one batch of due messages (any channel) and send them; the number claimed."""
        pump = self._pump()
        claimed = await self._claim(None, self._policy.batch_size, every_channel=True)
        pump.admit(claimed)
        await pump.settle()
        if pump.error is not None:
            raise pump.error
        return len(claimed)

    async def drain(self) -> int:
        """Send until nothing is due; the number of messages handled."""
        total = 0
        while handled := await self._pass(asyncio.Event(), poll_seconds=None):
            total += handled
        return total

    async def close(self) -> None:
        await self._slots.close()

    async def recover_stale_claims(self) -> tuple[int, int]:
        """Rows a crashed worker held longer than the lease: (requeued, marked unknown)."""
        cutoff = self._clock() - timedelta(seconds=self._policy.lease_seconds)
        async with self._transaction() as session:
            return await OutboxRepository(session).recover_stale(older_than=cutoff)

    async def reconcile_unknown(self) -> Counter[Decision]:
        """Reconcile one batch of sends of unknown outcome (see outreach.outbound.reconciliation)."""
        return await self._reconciliation.run_once()

    async def _reconcile_every(self, stopping: asyncio.Event, seconds: float) -> None:
        """A pass every `seconds`, the first one period after the start: a pass at the start raced the
        first claims for connections, and asked the providers again at every worker's restart."""
        await first_of([stopping], seconds)
        while not stopping.is_set():
            try:
                decided = await self.reconcile_unknown()
            except STORE_UNAVAILABLE as error:
                await first_of([stopping], self._store_errors.pause_after(error, seconds, "reconciliation paused"))
                continue
            if decided:
                log.info("dispatcher: reconciled unknown sends %s", dict(sorted(decided.items())))
            await first_of([stopping], seconds)

    async def release_claims(self) -> int:
        async with self._transaction() as session:
            return await OutboxRepository(session).release_claims(self._worker_id)

    async def run(self, stopping: asyncio.Event, poll_seconds: float) -> None:
        """Dispatch until `stopping` is set; when nothing is due, wait `poll_seconds` without spinning.
        A database outage pauses claiming; it goes on by itself when the database is back. On stop no
        new send starts and no message waits any longer for a pool or a limiter slot; the sends already
        started finish and are recorded, then the claimed-but-unstarted messages go back to the queue.
        Sends of unknown outcome are reconciled every `reconcile_seconds` meanwhile."""
        reconciling = asyncio.create_task(self._reconcile_every(stopping, self._policy.reconcile_seconds))
        try:
            await self._pass(stopping, poll_seconds)
        finally:
            if not stopping.is_set():  # failing. Stopping: it ends after its pass (a cancelled query
                reconciling.cancel()  # could leave a connection open)
            with contextlib.suppress(asyncio.CancelledError):
                await reconciling

    async def _pass(self, stopping: asyncio.Event, poll_seconds: float | None) -> int:
        """Feed the lanes until `stopping` (or, with `poll_seconds` None, until nothing more is due and
        every claimed message finished); the number of messages claimed."""
        pump = self._pump()
        try:
            await self._feed(pump, stopping, poll_seconds)
        finally:
            # Stopping (or failing): no new send starts, and waits for a pool or a limiter slot end now.
            # The sends already started finish and are recorded; then the unstarted claims go back
            # (after, not before: a chain may be writing its row, e.g. deferring it to the morning).
            interrupted = poll_seconds is not None or pump.pending > 0
            pump.halt.set()
            await pump.settle()
            if interrupted:
                with contextlib.suppress(*STORE_UNAVAILABLE):
                    await self.release_claims()
        if poll_seconds is None and pump.error is not None:
            raise pump.error
        return pump.handled

    async def _feed(self, pump: Pump, stopping: asyncio.Event, poll_seconds: float | None) -> None:
        """Claim for every lane with room, then wait for room, for the next poll, or for `stopping`."""
        next_recovery = 0.0
        while not stopping.is_set():
            pump.room.clear()
            now = time.monotonic()
            try:
                claimed = await self._refill(pump, now, poll_seconds)
            except STORE_UNAVAILABLE as error:
                if poll_seconds is None:
                    raise
                await first_of([stopping], self._store_errors.pause_after(error, poll_seconds))
                continue
            self._store_errors.answered()
            if poll_seconds is None:
                if all(lane.dry_until == math.inf for lane in pump.lanes.values()) and pump.pending == 0:
                    return  # drained: nothing was due at the last claims, and everything claimed finished
            elif claimed == 0 and now >= next_recovery and not pump.hungry(now):
                next_recovery = now + poll_seconds
                with contextlib.suppress(*STORE_UNAVAILABLE):
                    await self.recover_stale_claims()  # nothing due: look after workers that died
            await first_of([stopping, pump.room], self._wake_in(pump, time.monotonic()))

    @staticmethod
    def _wake_in(pump: Pump, now: float) -> float | None:
        """Seconds until a lane with room may have something due again (0: a lane with room got nothing
        from a claim that came back full, for every channel); None: only room wakes us."""
        if pump.hungry(now):
            return 0.0
        waits = [lane.dry_until - now for lane in pump.lanes.values() if lane.dry_until != math.inf]
        due = [wait for wait in waits if wait > 0]
        return min(due) if due else None

    async def _refill(self, pump: Pump, now: float, poll_seconds: float | None) -> int:
        """Claim for the lanes with room; the number claimed. When every lane has room (idle, or just
        started), one claim serves them all, so an idle worker polls with one query, as before."""
        hungry = pump.hungry(now)
        if not hungry:
            return 0
        dry_until = math.inf if poll_seconds is None else now + poll_seconds
        if len(hungry) == len(pump.lanes):
            limit = self._policy.batch_size - max(lane.pending for lane in hungry)
            claimed = await self._claim(None, limit, every_channel=True)
            pump.admit(claimed)
            if len(claimed) < limit:
                for lane in hungry:
                    lane.dry_until = dry_until
            return len(claimed)
        total = 0
        for lane in hungry:
            limit = self._policy.batch_size - lane.pending
            claimed = await self._claim(lane.channel, limit)
            pump.admit(claimed)
            if len(claimed) < limit:
                lane.dry_until = dry_until
            total += len(claimed)
        return total

    async def _claim(self, channel: str | None, limit: int, *, every_channel: bool = False) -> list[ClaimedMessage]:
        """Claim for one channel's lane; `channel` None: the channels not enabled here (every channel
        with `every_channel`)."""
        channels = None if channel is None else [channel]
        excluding = () if every_channel or channel is not None else list(self._channels)
        async with self._transaction() as session:
            return await OutboxRepository(session).claim_due(
                worker=self._worker_id,
                now=self._clock(),
                limit=limit,
                channels=channels,
                excluding=excluding,
            )

    async def _deliver(self, message: ClaimedMessage, lane: Lane, halt: asyncio.Event) -> None:
        if not await unless_halted(halt, lane.pool.acquire):
            return  # stopping: still claimed, handed back by release_claims
        try:
            await self._deliver_in_slot(message, halt)
        finally:
            lane.pool.release()

    async def _deliver_in_slot(self, message: ClaimedMessage, halt: asyncio.Event) -> None:
        if await self._deferred_for_quiet_hours(message) or await self._deferred_for_daily_cap(message):
            return
        channel = self._channels.get(message.channel)
        if channel is None:
            await self._record_failure(message, "permanent", f"channel {message.channel} is not enabled")
            return
        outbound = outbound_of(message)
        # What the provider counts: SMS segments (counted once here for budget, limit and cost).
        units = count_segments(render_plain(outbound)).segments if message.channel == "sms" else 1
        keys = await self._slots.keys(message, units)
        slot = await self._slots.granted(message, keys, halt)
        if slot is None or halt.is_set():
            return  # no send starts once stopping: the claim goes back untouched
        if not await self._started_in_slot(message, keys, halt, self._budget.cost(message, units), slot):
            return
        faults.reached("send_marked")
        await self._send(message, channel, outbound, units)

    async def _started_in_slot(
        self, message: ClaimedMessage, keys: list[Item], halt: asyncio.Event, cost: float, slot: Reservation
    ) -> bool:
        """Record the send's start in the moments before its limiter slot (the limiter woke us
        `start_lead` before it), with its reservation of the campaign's SMS budget, then wait for the
        slot; False: not ours to send now (handed back, taken over after the lease, or stopping
        meanwhile) or over the budget (held, or failed once closed).

        A write that ends more than `slot_tolerance` after the slot makes the send late: sent then, it
        would land beside the next ones and crowd a provider's second, so it takes a fresh slot (about
        one interval). It waits for that slot as `claimed`, not `sending`: a crash while it waits must
        leave a message that surely never left, not one of unknown outcome. After MAX_LATE_MARKS late
        marks it goes as it is."""
        for late in range(MAX_LATE_MARKS + 1):
            async with self._transaction() as session:
                now = self._clock()
                # The wait for the slot may have run into the night (seconds at most in production,
                # hours on the demo's accelerated clock): the start recorded is checked, not the claim.
                if (release := self._quiet_until(message, now)) is not None:
                    await OutboxRepository(session).defer(message.id, until=release, worker=self._worker_id)
                    return False
                started = await OutboxRepository(session).mark_sending(message.id, now=now, worker=self._worker_id)
                within_budget = started and await self._budget.reserve(session, message, cost)
            if not started:  # handed back (stopping) or taken over after the lease: not ours to send
                log.info("outbox %s: no longer claimed by this worker; not sent here", message.id)
                return False
            if not within_budget:
                return False
            # Recorded ahead of the slot: the request goes at it. Recorded too long after it: late.
            if not keys or await self._slots.behind(slot) <= self._policy.slot_tolerance or late == MAX_LATE_MARKS:
                return True
            self.late_writes += 1
            async with self._transaction() as session:  # its reservation goes back meanwhile
                await OutboxRepository(session).unsend(message.id, worker=self._worker_id)
            fresh = await self._slots.fresh(keys, halt)
            if fresh is None:
                return False  # stopping: the claim goes back untouched (release_claims)
            slot = fresh
        return True

    async def _send(self, message: ClaimedMessage, channel: Channel, outbound: Outbound, units: int) -> None:
        try:
            sent = await channel.send(outbound)
        except SendError as error:
            await self._record_send_error(message, error)
        except Exception as error:  # the request may have reached the provider: reconciled, not resent here
            await self._record_unknown(message, type(error).__name__)
        except asyncio.CancelledError:
            # Cancelled mid-send (a shutdown that would not wait): recorded, not left in `sending`.
            await asyncio.shield(self._record_unknown(message, "cancelled"))
            raise
        else:
            faults.reached("after_request")  # the provider has it; its outcome is not recorded yet
            self._telemetry.sent(message.channel)
            await asyncio.shield(self._record_sent(message, sent, units))

    async def _record_unknown(self, message: ClaimedMessage, detail: str) -> None:
        log.warning("outbox %s: outcome unknown (%s)", message.id, detail)
        self._telemetry.send_failed(message.channel, "unknown")
        async with self._transaction() as session:
            await OutboxRepository(session).mark_unknown(message.id, detail=detail)

    async def _record_sent(self, message: ClaimedMessage, sent: Sent, units: int) -> None:
        async with self._transaction() as session:
            await OutboxRepository(session).mark_sent(
                message.id, provider_id=sent.provider_id, now=self._clock(), segments=sent.segments
            )
            await self._budget.bill(session, message, units, sent.segments or units)
            await apply_early_report(session, message.channel, sent.provider_id, clock=self._clock)
            faults.reached("before_commit.outcome")

    async def _deferred_for_daily_cap(self, message: ClaimedMessage) -> bool:
        """No address gets more than `daily_cap` campaign messages in 24 hours; the rest wait."""
        if message.kind == "system":
            return False  # a reply to what the resident just asked (STOP, HELP) always goes
        now = self._clock()
        # A read: on SQLite it must not take the write lock every send's own writes wait for.
        async with read_session(self._sessions) as session:
            count, oldest = await OutboxRepository(session).sent_to_since(message.contact_id, now - timedelta(days=1))
        if count < self._policy.daily_cap or oldest is None:
            return False
        async with self._transaction() as session:
            await OutboxRepository(session).defer(message.id, until=oldest + timedelta(days=1), worker=self._worker_id)
        log.info("outbox %s: daily cap of the address reached; waits", message.id)
        return True

    async def _deferred_for_quiet_hours(self, message: ClaimedMessage) -> bool:
        """A retry (or a slow queue) must not carry a message into the night either."""
        release = self._quiet_until(message, self._clock())
        if release is None:
            return False
        async with self._transaction() as session:
            await OutboxRepository(session).defer(message.id, until=release, worker=self._worker_id)
        return True

    def _quiet_until(self, message: ClaimedMessage, now: datetime) -> datetime | None:
        """When this message may go, if its quiet hours hold it at `now`."""
        if message.quiet_hours is None:
            return None
        window = QuietHours.parse(message.quiet_hours)
        zone = resident_zone(message.timezone)
        release = release_time(now, window, zone, key=message.idempotency_key, spread=self._policy.quiet_spread)
        return release if release > now else None

    async def _record_send_error(self, message: ClaimedMessage, error: SendError) -> None:
        detail = str(error)[:500]
        if error.stop_contact:
            async with self._transaction() as session:
                stop = Because(Source.PROVIDER, detail="refused: the address opted out", channel=message.channel)
                await ResidentRepository(session).opt_out_contact(message.contact_id, now=self._clock(), because=stop)
                await OutboxRepository(session).mark_failed(message.id, error_class="stop_contact", detail=detail)
                await sms_spend.give_back(session, message.id)
                await self._fall_back(session, message)
            log.info("outbox %s: address stopped by provider", message.id)
            self._telemetry.send_failed(message.channel, "stop_contact")
            return
        if error.address_invalid:
            async with self._transaction() as session:
                await ResidentRepository(session).mark_unreachable(message.contact_id, now=self._clock())
                await OutboxRepository(session).mark_failed(message.id, error_class="permanent", detail=detail)
                await sms_spend.give_back(session, message.id)
                await self._fall_back(session, message)
            log.info("outbox %s: address unreachable", message.id)
            self._telemetry.send_failed(message.channel, "permanent")
            return
        if error.retryable and message.attempts < self._policy.max_attempts:
            delay = self._policy.backoff(message.attempts, error.retry_after, self._jitter)
            async with self._transaction() as session:
                await OutboxRepository(session).mark_retry(
                    message.id, at=self._clock() + timedelta(seconds=delay), detail=detail
                )
                await sms_spend.give_back(session, message.id)
            log.info("outbox %s: retry %d in %.1fs", message.id, message.attempts, delay)
            self._telemetry.send_failed(message.channel, "retryable")
            return
        await self._record_failure(message, "retryable" if error.retryable else "permanent", detail)

    async def _record_failure(self, message: ClaimedMessage, error_class: str, detail: str) -> None:
        async with self._transaction() as session:
            await OutboxRepository(session).mark_failed(message.id, error_class=error_class, detail=detail)
            await sms_spend.give_back(session, message.id)  # refused: the provider never took it
            await self._fall_back(session, message)
        log.info("outbox %s: failed (%s)", message.id, error_class)
        self._telemetry.send_failed(message.channel, error_class)

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
