"""Webhook messages stored, acknowledged, then handled (issue 18): RapidPro courier's order of work.

Handling a reply (the sender read, routing, the answer, the next question, the conversation) costs
several times what storing it does, so a burst after a send wave would queue for seconds if each
webhook waited for its handling; Twilio gives up after 15 s. Here a verified message is committed to
`inbound_queue` (storage.inbound_queue), sealed with the service's keys, and the provider may be
answered; this process's workers then handle it through the pipeline, whose transaction deletes the
row. Exactly once rests on two things: the row goes with the transaction that handles the message, and
the provider's id is the inbound event's unique key (a message handled twice, by a worker that took
over too early, is a duplicate there).

Concurrent messages share one INSERT (and, on SQLite, one commit). The workers keep each sender's
messages in arrival order; different senders are handled side by side. When nothing is ahead of a
message in this process, the webhook waits for its handling (up to INBOUND_WAIT_SECONDS), so a 2xx
usually means handled; under a burst it answers once the message is stored.

A row is held by the worker that stored it for INBOUND_LEASE_SECONDS. A worker killed with rows in
hand leaves them to whoever sweeps after that time; a worker that met an outage while handling lets
its own rows be swept again (by itself too) on its next sweep, every INBOUND_SWEEP_SECONDS; a worker
that stops cleanly finishes what it holds, or hands it back at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from channels.base import Inbound
from outreach import faults
from outreach.addresses import canonical_address
from outreach.clock import Clock, stopped_clock
from outreach.inbound.failures import handle_or_keep_failed
from outreach.inbound.pipeline import Outcome
from outreach.inbound.services import InboundServices
from outreach.inbound.spool import CorruptSpoolFile, decode, encode
from outreach.store_errors import StoreErrors
from storage import inbound_queue
from storage.address_keys import AddressKeys
from storage.db import SessionFactory
from storage.failures import STORE_ERRORS, describe
from storage.group_commit import GroupCommit
from storage.inbound_queue import SEALED_AS, SET_ASIDE_UNTIL, NewQueued, Taken
from storage.sealing import SealedValueUnreadable

log = logging.getLogger(__name__)

# Messages handled side by side. SQLite: they share grouped commits. PostgreSQL: each holds a pooled
# connection for its transaction, so few enough that storing new messages (and the dispatcher) find one.
WORKERS_SQLITE = 10
WORKERS_POSTGRESQL = 4
TAKE_LIMIT = 200  # rows one sweep takes over
# A worker about to handle a message lets the webhooks being received go first until a lull, while the
# message is less than this far behind (and less than half its lease): a burst is answered at the pace
# of storing and handled after it, and a stream that leaves no lull takes its full share of the CPU
# once this far behind, so it is never left further behind than this.
BEHIND_AT_MOST_SECONDS = 5.0
QUIET_SECONDS = 0.002  # a burst's webhooks come closer than this (300 a second: 3.3 ms apart)


@dataclass
class _InHand:
    queued_id: int
    inbound: Inbound
    arrived_at: datetime
    handled: asyncio.Future[Outcome | None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    awaited: bool = False  # a webhook waits for its handling: its worker does not let others go first
    handed_at: float = field(default_factory=lambda: asyncio.get_running_loop().time())


@dataclass(frozen=True)
class Accepted:
    """A message stored in the queue, in this process's hands (None: left to the worker processes,
    `outreach work`), and how many it had in hand before it."""

    queued_id: int
    item: _InHand | None
    ahead: int

    async def handled_within(self, seconds: float) -> Outcome | None:
        """The outcome, if it comes within `seconds`; None otherwise (the message stays queued, or was
        left in the queue for a later sweep, as after an outage)."""
        if seconds <= 0 or self.item is None:
            return None
        self.item.awaited = True
        with contextlib.suppress(TimeoutError):
            return await asyncio.wait_for(asyncio.shield(self.item.handled), timeout=seconds)
        return None


class InboundQueue:
    def __init__(
        self,
        services: InboundServices,
        *,
        writes: SessionFactory,
        keys: AddressKeys,
        holder: str,
        lease: timedelta,
        clock: Clock,
        grouped: GroupCommit | None = None,
        workers: int = WORKERS_SQLITE,
    ) -> None:
        """`writes`: the sessions rows are written in (SQLite: the inline writer's, storage.sqlite_writer).
        `grouped`: the pipeline's grouped commits (SQLite), which new rows join ahead of the replies
        being handled (one writer: a transaction of its own would wait for the write lock in SQLite's
        sleeping busy handler). `holder`: this worker's name on the rows it holds (Services.worker_id)."""
        self._services = services
        self._writes = writes
        self._grouped = grouped
        self._keys = keys
        self._holder = holder
        self._lease = lease
        self._clock = clock
        self._workers = workers
        # A sweep every 50 ms (`outreach work`): an outage is said once, not 19 times a second.
        self._store_errors = StoreErrors("inbound queue")
        self._sweep_pause = 0.0  # after a defect, the longer pause StoreErrors gives
        # Past half its lease a row in hand could be swept by another process before it is handled.
        self._receiving_first_for = min(BEHIND_AT_MOST_SECONDS, lease.total_seconds() / 2)
        self._to_add: list[tuple[NewQueued, asyncio.Future[int]]] = []
        self._adder: asyncio.Task[None] | None = None
        self._in_hand: asyncio.Queue[_InHand] = asyncio.Queue()
        self._ids_in_hand: set[int] = set()
        self._senders: dict[tuple[str, str], asyncio.Lock] = {}
        self._per_sender: Counter[tuple[str, str]] = Counter()
        self._all_handled = asyncio.Event()
        self._all_handled.set()
        self._receiving = 0  # webhook requests being read, checked and stored
        self._nothing_received = asyncio.Event()
        self._nothing_received.set()
        self._last_received = float("-inf")  # the loop's clock when the last webhook was answered
        # Outside running() (`outreach serve --web-only`) nothing here handles: rows are stored free to
        # take, and the worker processes' sweeps take them.
        self._working = False

    async def put(self, inbound: Inbound) -> Accepted:
        """Store `inbound` durably and hand it to this process's workers. Raises one of STORE_ERRORS
        when the store is away or refuses it (nothing was stored)."""
        arrived_at = self._clock()
        address = canonical_address(inbound.channel, inbound.address)
        payload = encode(inbound, arrived_at).decode("ascii")
        row = NewQueued(
            channel=inbound.channel,
            address_index=self._keys.index(inbound.channel, address),
            payload=self._keys.sealer.seal(payload, binding=SEALED_AS),
        )
        queued_id = await self._add(row)
        if not self._working:  # stored free to take: a worker process sweeps it up
            return Accepted(queued_id, None, 0)
        ahead = len(self._ids_in_hand)
        return Accepted(queued_id, self._hand(queued_id, inbound, arrived_at), ahead)

    @contextlib.contextmanager
    def receiving(self) -> Iterator[None]:
        """A webhook request is being read, checked and stored while inside: the workers let it go first."""
        self._receiving += 1
        self._nothing_received.clear()
        try:
            yield
        finally:
            self._receiving -= 1
            self._last_received = asyncio.get_running_loop().time()
            if not self._receiving:
                self._nothing_received.set()

    async def idle(self) -> None:
        """Until this process has nothing in hand (tests, and a clean stop)."""
        await self._all_handled.wait()

    @contextlib.asynccontextmanager
    async def running(self, *, sweep_every: float, finish_within: float | None = None) -> AsyncIterator[None]:
        """Workers handle what is put or swept while inside; on leaving, what is in hand is finished
        (for up to `finish_within` seconds, a lease's time unless told) and the rest handed back to the
        other workers at once."""
        stopping = asyncio.Event()
        tasks = [asyncio.create_task(self._work(), name=f"inbound-worker-{n}") for n in range(self._workers)]
        self._working = True
        await self.sweep()  # what a worker killed before this start left, at once
        sweeper = asyncio.create_task(self._sweep_until(stopping, sweep_every), name="inbound-sweeper")
        try:
            yield
        finally:
            stopping.set()
            with contextlib.suppress(TimeoutError):
                finishing = self._lease.total_seconds() if finish_within is None else finish_within
                await asyncio.wait_for(self.idle(), timeout=finishing)
            for task in [*tasks, sweeper]:
                task.cancel()
            await asyncio.gather(*tasks, sweeper, return_exceptions=True)
            self._working = False
            await self._let_go()

    async def sweep(self) -> int:
        """Take over the rows free to take (a dead worker's, this worker's own it let go of, or one a
        `--web-only` process stored), oldest first, and hand them to the workers: how many. Never more
        than TAKE_LIMIT in hand, so that rows wait in the table for any worker, not in this one's memory
        until their lease runs out."""
        now = self._clock()
        room = TAKE_LIMIT - len(self._ids_in_hand)
        if room <= 0:
            return 0
        try:
            async with self._writes() as session, session.begin():
                taken = await inbound_queue.take(
                    session,
                    holder=self._holder,
                    now=now,
                    until=now + self._lease,
                    skip=set(self._ids_in_hand),
                    limit=room,
                )
        except STORE_ERRORS as error:
            self._sweep_pause = self._store_errors.pause_after(error, 0.0, "the next sweep tries again")
            return 0
        self._store_errors.answered()
        self._sweep_pause = 0.0
        handed = 0
        for row in taken:
            if row.id in self._ids_in_hand:
                continue
            opened = await self._opened(row)
            if opened is not None:
                self._hand(row.id, opened[1], opened[0])
                handed += 1
        if handed:
            log.info("inbound queue: %d stored message(s) taken over", handed)
        return handed

    async def _opened(self, row: Taken) -> tuple[datetime, Inbound] | None:
        try:
            arrived_at, item = decode(self._keys.sealer.open(row.payload, binding=SEALED_AS).encode("ascii"))
        except (CorruptSpoolFile, SealedValueUnreadable, UnicodeEncodeError) as error:
            item, problem = None, type(error).__name__
        else:
            problem = "not a message"
        if isinstance(item, Inbound):
            return arrived_at, item
        log.error("inbound queue: row %d cannot be read (%s); kept, set aside", row.id, problem)
        await self._set_aside(row.id)
        return None

    async def _add(self, row: NewQueued) -> int:
        added: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._to_add.append((row, added))
        if self._adder is None or self._adder.done():
            self._adder = asyncio.create_task(self._add_waiting())
        return await added

    async def _add_waiting(self) -> None:
        """Rows that arrived together in one INSERT and one commit; those arriving meanwhile, in the next."""
        while self._to_add:
            group, self._to_add = self._to_add, []
            add = functools.partial(
                inbound_queue.add,
                rows=[row for row, _ in group],
                holder=self._holder,
                until=self._clock() + (self._lease if self._working else timedelta(0)),
            )
            try:
                if self._grouped is not None:
                    ids = await self._grouped.run(add, first=True)
                else:
                    async with self._writes() as session, session.begin():
                        ids = await add(session)
            except Exception as error:  # every caller's own error: nothing of the group was stored
                for _, added in group:
                    if not added.done():
                        added.set_exception(error)
                continue
            faults.reached("queued")  # test only (outreach.faults): stored, not yet answered nor handled
            for (_, added), queued_id in zip(group, ids, strict=True):
                if not added.done():  # the webhook's client hung up: the row stays, handled all the same
                    added.set_result(queued_id)
                else:
                    log.debug("inbound queue: row %d stored for a request that went away", queued_id)

    def _hand(self, queued_id: int, inbound: Inbound, arrived_at: datetime) -> _InHand:
        item = _InHand(queued_id, inbound, arrived_at)
        self._ids_in_hand.add(queued_id)
        self._all_handled.clear()
        self._in_hand.put_nowait(item)
        return item

    async def _work(self) -> None:
        while True:
            item = await self._in_hand.get()
            sender = (item.inbound.channel, canonical_address(item.inbound.channel, item.inbound.address))
            # Taken in arrival order and locked before any await: a sender's messages keep their order.
            lock = self._senders.setdefault(sender, asyncio.Lock())
            self._per_sender[sender] += 1
            try:
                async with lock:
                    if not item.awaited:
                        await self._after_receiving(until=item.handed_at + self._receiving_first_for)
                    outcome = await self._handled(item)
            finally:
                self._per_sender[sender] -= 1
                if not self._per_sender[sender]:
                    del self._per_sender[sender], self._senders[sender]
                self._ids_in_hand.discard(item.queued_id)
                if not self._ids_in_hand:
                    self._all_handled.set()
            if not item.handled.done():
                item.handled.set_result(outcome)

    async def _after_receiving(self, *, until: float) -> None:
        """Until no webhook has been received for QUIET_SECONDS, or the loop's clock reads `until`: a
        burst's webhooks are answered first, its handling comes after."""
        loop = asyncio.get_running_loop()
        while self._receiving or loop.time() - self._last_received < QUIET_SECONDS:
            left = until - loop.time()
            if left <= 0:
                return
            if self._receiving:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._nothing_received.wait(), timeout=left)
            else:  # a lull: the next webhook of a burst comes within it
                await asyncio.sleep(min(QUIET_SECONDS, left))

    async def _handled(self, item: _InHand) -> Outcome | None:
        """The message's outcome, its row deleted with it; None when it stays queued: after an outage
        for the next sweep, after a defect set aside (kept for an operator, never retried)."""
        arrived = stopped_clock(item.arrived_at)
        handle = functools.partial(self._services.pipeline.at(item.arrived_at).handle, dequeue=item.queued_id)
        try:
            outcome = await handle_or_keep_failed(self._services, item.inbound, handle, clock=arrived)
            if outcome is Outcome.FAILED:  # refused: its failed event was kept in a transaction of its own
                async with self._writes() as session, session.begin():
                    await inbound_queue.remove(session, item.queued_id)
        except STORE_ERRORS as error:
            log.warning("inbound %s: left queued for the next sweep (%s)", item.inbound.channel, describe(error))
            return None
        except Exception:  # a defect: retried, it would fail for ever and hold up its sender's messages
            log.exception("inbound %s: handling failed; kept in the queue, set aside", item.inbound.channel)
            await self._set_aside(item.queued_id)
            return None
        return outcome

    async def _set_aside(self, queued_id: int) -> None:
        with contextlib.suppress(*STORE_ERRORS):
            async with self._writes() as session, session.begin():
                await inbound_queue.set_aside(session, queued_id, until=SET_ASIDE_UNTIL)

    async def _sweep_until(self, stopping: asyncio.Event, every: float) -> None:
        while not stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=max(every, self._sweep_pause))
            if not stopping.is_set():
                await self.sweep()

    async def _let_go(self) -> None:
        with contextlib.suppress(*STORE_ERRORS):
            async with self._writes() as session, session.begin():
                await inbound_queue.let_go(session, holder=self._holder, now=self._clock())
