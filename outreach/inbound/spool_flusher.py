"""Applying the spool (outreach.inbound.spool) once the store is back: `serve` runs `SpoolFlusher.run`.

One round (`flush`) takes the flush lock (one flusher at a time across the processes sharing the
directory, so arrival order holds), then applies the files oldest first: each through the pipeline as
of when it arrived (its answer time, its reply's), or as a delivery report. A file applied is removed;
a corrupt one, or one whose applying fails with anything but a store error (a defect: it would hold up
every file behind it), is set aside and reported; an outage ends the round with the rest left in order.

Between rounds the flusher waits: after an outage, a pause doubling from `min_pause` up to `max_pause`
(a webhook that spools meanwhile does not cut it short, or each reply in an outage would knock on the
store); otherwise until a webhook spools something or `idle_pause` passes (files another process left).
`wait` is injectable, so tests run the loop without sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from channels.base import Inbound
from outreach.clock import stopped_clock
from outreach.inbound.failures import handle_or_keep_failed
from outreach.inbound.services import InboundServices
from outreach.inbound.spool import CorruptSpoolFile, InboundSpool, Spooled
from outreach.outbound.delivery_status import record_delivery_status
from outreach.store_errors import DEFECT_PAUSE_SECONDS, StoreErrors, kind_of
from storage.failures import STORE_ERRORS, StoreFailure, classify, describe, retrying_collisions

log = logging.getLogger(__name__)

MIN_PAUSE_SECONDS = 0.5
MAX_PAUSE_SECONDS = 15.0
IDLE_PAUSE_SECONDS = 5.0


@dataclass(frozen=True)
class FlushRound:
    """What one round did: files applied, set aside as corrupt, and whether it met an outage (or
    found another flusher at work: `busy`)."""

    applied: int = 0
    set_aside: int = 0
    outage: bool = False
    busy: bool = False
    defect: bool = False  # the store error was no outage (outreach.store_errors): the next round waits longer


# A pause: wait `seconds`, or less when `wakeable` and a webhook spooled something meanwhile.
Wait = Callable[[float, bool], Awaitable[None]]


class SpoolFlusher:
    def __init__(
        self,
        spool: InboundSpool,
        services: InboundServices,
        *,
        min_pause: float = MIN_PAUSE_SECONDS,
        max_pause: float = MAX_PAUSE_SECONDS,
        idle_pause: float = IDLE_PAUSE_SECONDS,
        wait: Wait | None = None,
    ) -> None:
        self._spool = spool
        self._services = services
        self._min_pause = min(min_pause, max_pause)
        self._max_pause = max_pause
        self._idle_pause = idle_pause
        self._wait = wait or self._wait_or_wake
        self._store_errors = StoreErrors("spool")

    async def run(self, stopping: asyncio.Event) -> None:
        pause = self._min_pause
        while not stopping.is_set():
            self._spool.arrived.clear()  # what is spooled from here on is seen by this round or wakes the next
            try:
                done = await self.flush()
            except OSError as error:  # the directory itself cannot be read: said, and tried again later
                log.error("spool: %s cannot be read (%s)", self._spool.directory, type(error).__name__)
                done = FlushRound(outage=True)
            if done.outage:
                await self._wait(DEFECT_PAUSE_SECONDS if done.defect else pause, False)
                pause = min(pause * 2, self._max_pause)
            else:
                pause = self._min_pause
                await self._wait(self._idle_pause, True)

    async def flush(self) -> FlushRound:
        """One round over the spool, oldest file first."""
        with self._spool.flushing() as ours:
            if not ours:
                return FlushRound(busy=self._spool.directory.exists())
            await asyncio.to_thread(self._spool.remove_abandoned)
            applied = set_aside = 0
            for name in self._spool.pending():
                try:
                    spooled = await asyncio.to_thread(self._spool.read, name)
                except FileNotFoundError:
                    continue  # applied by a flusher that held the lock before us
                except CorruptSpoolFile as error:
                    where = await asyncio.to_thread(self._spool.set_aside, name)
                    log.error("spool file %s is corrupt (%s): moved to %s, not applied", name, error, where)
                    set_aside += 1
                    continue
                try:
                    await self._apply(spooled)
                except STORE_ERRORS as error:
                    if kind_of(error) != StoreFailure.OUTAGE:  # a defect: said once, at ERROR, with a hint
                        self._store_errors.pause_after(error, self._max_pause)
                        return FlushRound(applied, set_aside, outage=True, defect=True)
                    log.warning(
                        "spool: the store is still away (%s); %d applied, the rest wait", describe(error), applied
                    )
                    return FlushRound(applied, set_aside, outage=True)
                except Exception as error:  # a defect of ours: the file would block every one behind it
                    where = await asyncio.to_thread(self._spool.set_aside, name)
                    # The class only: a message may hold the text or the address.
                    log.error("spool file %s could not be applied (%s): moved to %s", name, type(error).__name__, where)
                    set_aside += 1
                    continue
                await asyncio.to_thread(self._spool.done, name)
                applied += 1
            if applied or set_aside:
                log.info("spool: %d applied, %d set aside as corrupt", applied, set_aside)
            return FlushRound(applied, set_aside)

    async def _apply(self, spooled: Spooled) -> None:
        """Apply one item as of its arrival; a store error that is an outage is raised."""
        services, item = self._services, spooled.item
        arrived = stopped_clock(spooled.arrived_at)
        if isinstance(item, Inbound):
            pipeline = services.pipeline.at(spooled.arrived_at)
            await handle_or_keep_failed(services, item, pipeline.handle, clock=arrived)
            return
        try:
            await retrying_collisions(functools.partial(record_delivery_status, services.sessions, item, clock=arrived))
        except STORE_ERRORS as error:
            if classify(error) is StoreFailure.OUTAGE:
                raise
            # As the webhook does: the same report would be refused again, so it is dropped and said.
            log.warning("spooled delivery status for %s refused by the store: %s", item.provider_id, describe(error))

    async def _wait_or_wake(self, seconds: float, wakeable: bool) -> None:
        if not wakeable:
            await asyncio.sleep(seconds)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._spool.arrived.wait(), seconds)
