"""APScheduler in every serve process, triggering only idempotent database work (outreach.campaigns.lifecycle).

Each process keeps its own in-memory scheduler and never shares a job store: the database says what
is due, and the lifecycle jobs claim their rows, so N processes ticking is safe.
"""

from __future__ import annotations

from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from outreach.campaigns.lifecycle import Lifecycle

LIFECYCLE_JOB = "lifecycle"


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
