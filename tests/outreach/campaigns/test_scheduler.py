"""The scheduler's running jobs (outreach.campaigns.scheduler.RunningJobs): a stopping process waits for
them, and cancels (and awaits) one that outlasts the grace it gives."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from outreach.campaigns.scheduler import RunningJobs


async def test_a_job_outlasting_the_grace_is_cancelled_and_awaited() -> None:
    started, cut_off = asyncio.Event(), asyncio.Event()

    async def never_ends() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cut_off.set()  # its own cleanup ran before finish() returned
            raise

    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(never_ends, "interval", hours=1, next_run_time=datetime.now(UTC))
    running = RunningJobs(scheduler)
    scheduler.start()
    try:
        await asyncio.wait_for(started.wait(), timeout=10)
        scheduler.pause()
        await asyncio.wait_for(running.finish(grace_seconds=0.05), timeout=10)
        assert cut_off.is_set()
    finally:
        scheduler.shutdown(wait=False)


async def test_finishing_with_nothing_running_returns_at_once() -> None:
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(asyncio.sleep, "interval", hours=1, args=[0])
    running = RunningJobs(scheduler)
    await asyncio.wait_for(running.finish(grace_seconds=3600), timeout=1)
