"""The dispatcher's pipeline: lanes of claimed messages per channel, and chains that send one
address's messages one after another (outreach.outbound.dispatcher claims, sends and records)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from outreach.store_errors import kind_of
from storage.db import STORE_UNAVAILABLE
from storage.failures import StoreFailure, describe
from storage.outbox import ClaimedMessage

log = logging.getLogger(__name__)


@dataclass
class Lane:
    """One channel's claimed-but-unfinished messages (`channel` None: channels not enabled here, whose
    messages fail with the reason) and its pool of sends in flight."""

    channel: str | None
    pool: asyncio.Semaphore
    pending: int = 0
    dry_until: float = 0.0  # monotonic: its last claim came back short, nothing more is due before this


async def unless_halted(halt: asyncio.Event, waiting: Callable[[], Awaitable[object]]) -> bool:
    """Wait for `waiting()` unless `halt` is set first (False then: the wait is cancelled; a cancelled
    limiter waiter leaves its slot unused, never over-used)."""
    if halt.is_set():
        return False
    task = asyncio.ensure_future(waiting())
    stop = asyncio.ensure_future(halt.wait())
    try:
        await asyncio.wait((task, stop), return_when=asyncio.FIRST_COMPLETED)
    except BaseException:
        task.cancel()  # our caller was cancelled (a timeout): the wait must not go on without it
        raise
    finally:
        stop.cancel()
    if task.done():
        task.result()  # its exception, if any
        return True
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return False


async def first_of(events: Iterable[asyncio.Event], seconds: float | None) -> None:
    """Until one of `events` is set or `seconds` pass (None: no limit)."""
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


Deliver = Callable[[ClaimedMessage, Lane, asyncio.Event], Awaitable[None]]


class Pump:
    """One pass of the pipeline: claimed messages wait in their address's chain; each chain sends its
    messages one after another. `halt` stops every chain before its next send starts."""

    def __init__(self, lanes: dict[str | None, Lane], deliver: Deliver, low_water: int) -> None:
        self.lanes = lanes
        self.halt = asyncio.Event()
        self.room = asyncio.Event()  # a lane went below its low-water mark (or a message finished)
        self.handled = 0
        self.error: BaseException | None = None  # the first store error a chain met
        self._deliver = deliver
        self._low_water = low_water
        self._chains: dict[int, deque[ClaimedMessage]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def lane_of(self, message: ClaimedMessage) -> Lane:
        return self.lanes.get(message.channel) or self.lanes[None]

    @property
    def pending(self) -> int:
        return sum(lane.pending for lane in self.lanes.values())

    def hungry(self, now: float) -> list[Lane]:
        """Lanes with room for more claims and no recent sign that nothing is due for them."""
        return [lane for lane in self.lanes.values() if lane.pending < self._low_water and lane.dry_until <= now]

    def admit(self, messages: Iterable[ClaimedMessage]) -> None:
        for message in messages:
            self.lane_of(message).pending += 1
            self.handled += 1
            chain = self._chains.get(message.contact_id)
            if chain is not None:
                chain.append(message)  # behind the address's earlier messages, even from an earlier claim
                continue
            self._chains[message.contact_id] = deque([message])
            task = asyncio.create_task(self._run_chain(message.contact_id), name=f"outbox-contact-{message.contact_id}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run_chain(self, contact_id: int) -> None:
        chain = self._chains[contact_id]
        try:
            while chain and not self.halt.is_set():
                message = chain.popleft()
                try:
                    await self._deliver(message, self.lane_of(message), self.halt)
                except Exception as error:
                    # Its later messages must not overtake it: they stay claimed with it until this
                    # worker stops (release_claims) or the lease ends (recover_stale).
                    if isinstance(error, STORE_UNAVAILABLE) and kind_of(error) == StoreFailure.OUTAGE:
                        log.warning(
                            "outbox %s: store unavailable (%s); its address waits", message.id, type(error).__name__
                        )
                    elif isinstance(error, STORE_UNAVAILABLE):  # a defect: no statement, no parameters
                        log.error("outbox %s: store error %s; its address waits", message.id, describe(error))
                    else:
                        log.exception("outbox %s: dispatch failed; its address waits", message.id)
                    self.error = self.error or error
                    break
                finally:
                    self._finished(message)
        finally:
            for message in chain:  # stopped or abandoned: still claimed, handed back by release_claims
                self._finished(message)
            del self._chains[contact_id]

    def _finished(self, message: ClaimedMessage) -> None:
        lane = self.lane_of(message)
        lane.pending -= 1
        if lane.pending < self._low_water:
            self.room.set()

    async def settle(self) -> None:
        """Until every chain has ended (after `halt`: once the sends already started are recorded)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
