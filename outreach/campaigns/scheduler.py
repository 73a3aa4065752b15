"""APScheduler in every serve process, triggering only idempotent database work (outreach.campaigns.lifecycle).

Each process keeps its own in-memory scheduler and never shares a job store: the database says what
is due, and the lifecycle jobs claim their rows, so N processes ticking is safe.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from outreach.campaigns.lifecycle import Lifecycle
from outreach.store_errors import StoreErrors
from outreach.telemetry import NO_TELEMETRY, Telemetry
from storage.failures import STORE_ERRORS

LIFECYCLE_JOB = "lifecycle"
JOBS_GRACE_SECONDS = 10.0  # a stopping process waits this long for a tick or retention run to end


def lifecycle_scheduler(lifecycle: Lifecycle, *, interval_seconds: float) -> AsyncIOScheduler:
    """A scheduler (not started: start() needs the running loop) that ticks the lifecycle at once
    and then every `interval_seconds`, never two ticks at a time."""
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(
        lifecycle.tick,
        "interval",
        seconds=interval_seconds,
        id=LIFECYCLE_JOB,
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now(UTC),
    )
    return scheduler


def report_store_errors(scheduler: AsyncIOScheduler, telemetry: Telemetry = NO_TELEMETRY) -> None:
    """Each job's store errors said as the other loops say them (outreach.store_errors), by the job's
    id: an outage in one warning line ("lifecycle: store unavailable (...); the next run tries again"),
    a reminder a minute and a line when it is over; a defect an ERROR once with its hint. APScheduler
    logged each at ERROR with a traceback, every 30 s of an outage. Any other exception still reaches
    APScheduler's own log."""
    for job in scheduler.get_jobs():
        job.modify(func=_reporting(StoreErrors(job.id, telemetry), job.func))


def _reporting(errors: StoreErrors, job: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(job)
    async def run(*args: Any, **kwargs: Any) -> Any:
        try:
            done = await job(*args, **kwargs)
        except STORE_ERRORS as error:
            errors.pause_after(error, 0.0, outage="the next run tries again")  # the trigger paces the runs
            return None
        errors.answered()
        return done

    return run


class RunningJobs:
    """The scheduler's jobs while they run, so a stopping process lets them end before its services close.

    APScheduler's asyncio executor cancels a running job at shutdown and never awaits it: a tick cut off
    mid-query was left to give its connection back after the engine was disposed, as the loop closed,
    and one such close never returned (a test's teardown hung there for 300 s; `serve` stops the same
    way). Only the jobs added before the scheduler starts are tracked (all of them, today)."""

    def __init__(self, scheduler: AsyncIOScheduler) -> None:
        self._running: set[asyncio.Task[Any]] = set()
        for job in scheduler.get_jobs():
            job.modify(func=self._tracked(job.func))

    def _tracked(self, job: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        @functools.wraps(job)
        async def run(*args: Any, **kwargs: Any) -> Any:
            task = asyncio.current_task()
            assert task is not None  # APScheduler runs a coroutine job as a task of the loop
            self._running.add(task)
            try:
                return await job(*args, **kwargs)
            finally:
                self._running.discard(task)

        return run

    async def finish(self, grace_seconds: float = JOBS_GRACE_SECONDS) -> None:
        """Wait for the jobs running now; any still running after `grace_seconds` is cancelled and awaited
        (each commits its batches as it goes, so a cut-off one loses only its open batch)."""
        if not self._running:
            return
        _, late = await asyncio.wait(set(self._running), timeout=grace_seconds)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
