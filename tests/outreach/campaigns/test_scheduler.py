"""The scheduler's running jobs (outreach.campaigns.scheduler.RunningJobs): a stopping process waits for
them, and cancels (and awaits) one that outlasts the grace it gives; and their store errors, said as the
other loops say them (report_store_errors)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import text

from outreach.campaigns.scheduler import RunningJobs, report_store_errors
from storage.db import create_engine


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


async def _refused_store() -> None:
    """A tick whose database refuses connections (nothing listens on port 1)."""
    engine = create_engine("postgresql+asyncpg://postgres@127.0.0.1:1/none", connect_args={"timeout": 2})
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    finally:
        await engine.dispose()


async def _a_defect_of_ours() -> None:
    raise ValueError("not a store error")


@pytest.mark.parametrize(
    ("job", "outcome", "said"),
    [
        (_refused_store, EVENT_JOB_EXECUTED, [("WARNING", "lifecycle: store unavailable (ConnectionRefusedError);")]),
        (_a_defect_of_ours, EVENT_JOB_ERROR, [("ERROR", 'Job "_a_defect_of_ours')]),
    ],
)
async def test_a_jobs_store_outage_is_one_warning_line_and_anything_else_still_an_error(
    job: object, outcome: int, said: list[tuple[str, str]], caplog: pytest.LogCaptureFixture
) -> None:
    """During an outage the lifecycle tick logged an ERROR with a traceback every 30 s; now the line the
    dispatcher's and webhooks' loops log, and the next run tries again. A defect of ours is not hidden."""
    ran: asyncio.Queue[int] = asyncio.Queue()

    def finished(event: JobExecutionEvent) -> None:
        ran.put_nowait(event.code)

    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(job, "interval", hours=1, id="lifecycle", next_run_time=datetime.now(UTC))
    scheduler.add_listener(finished, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    report_store_errors(scheduler)
    caplog.set_level(logging.WARNING)
    scheduler.start()
    try:
        assert await asyncio.wait_for(ran.get(), timeout=10) == outcome
    finally:
        scheduler.shutdown(wait=False)
    logged = [(record.levelname, record.getMessage()) for record in caplog.records if record.levelno >= logging.WARNING]
    assert len(logged) == len(said) and all(
        level == expected_level and message.startswith(start)
        for (level, message), (expected_level, start) in zip(logged, said, strict=True)
    ), logged
