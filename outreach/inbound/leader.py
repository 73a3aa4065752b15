"""Jobs only one worker may run (Telegram long polling, the IMAP poller): each `serve` process asks
for the job's lease; the holder runs it and renews the lease, the others wait and take over when
the holder stops renewing (it crashed or stopped)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from outreach.clock import Clock
from outreach.store_errors import StoreErrors, kind_of
from storage.db import STORE_UNAVAILABLE, SessionFactory
from storage.failures import StoreFailure
from storage.leases import hold_lease, release_lease

log = logging.getLogger(__name__)

Job = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


async def run_as_singleton(
    name: str,
    job: Job,
    *,
    sessions: SessionFactory,
    clock: Clock,
    stopping: asyncio.Event,
    ttl: timedelta = timedelta(seconds=60),
    holder: str | None = None,
) -> None:
    """Run `job(stop)` while this process holds the lease `name`; until `stopping`."""
    me = holder or f"{socket.gethostname()}:{os.getpid()}"
    renew_every = ttl.total_seconds() / 3
    store_errors = StoreErrors(f"{name} lease")
    while not stopping.is_set():
        if await _held(sessions, name, me, clock, ttl, store_errors):
            log.info("%s: this worker runs it", name)
            job_stop = asyncio.Event()
            task = asyncio.create_task(job(job_stop), name=name)
            while not stopping.is_set() and not task.done():
                await _wait(stopping, renew_every)
                if not await _held(sessions, name, me, clock, ttl, store_errors):
                    log.warning("%s: lease lost; stopping here", name)
                    break
            job_stop.set()
            with contextlib.suppress(Exception):
                await task
            with contextlib.suppress(*STORE_UNAVAILABLE):
                async with sessions() as session, session.begin():
                    await release_lease(session, name, holder=me, now=clock())
        else:
            await _wait(stopping, renew_every)


async def _held(
    sessions: SessionFactory, name: str, holder: str, clock: Clock, ttl: timedelta, store_errors: StoreErrors
) -> bool:
    try:
        async with sessions() as session, session.begin():
            return await hold_lease(session, name, holder=holder, now=clock(), ttl=ttl)
    except STORE_UNAVAILABLE as error:
        # An outage passes quietly (the holder's lease runs out, another worker takes over); a defect
        # means no worker will ever run the job: said at ERROR, once (the pause stays the renewal's).
        if kind_of(error) != StoreFailure.OUTAGE:
            store_errors.pause_after(error, 0.0)
        return False


async def _wait(stopping: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), timeout=seconds)
