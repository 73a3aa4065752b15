"""Import jobs: a residents file uploaded to the API, imported in the background; its row holds the
options, the progress written after each batch (with a heartbeat) and the first rejected rows by line.

A job moves queued -> running -> done or failed, never back: each step is one conditional UPDATE, so
a job another process marked failed (its runner looked dead) is not written by that runner again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.tables import ImportJob

QUEUED = "queued"
RUNNING = "running"
DONE = "done"
FAILED = "failed"
UNFINISHED = (QUEUED, RUNNING)
ERRORS_KEPT = 1000  # rejected rows kept by line and reason; `rejected` counts every one
FAILURE_LENGTH: int = ImportJob.__table__.c.failure.type.length  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Progress:
    """What a job did so far; `errors` are (line, reason) pairs, never a value of the row."""

    rows: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    errors: Sequence[tuple[int, str]]

    def values(self) -> dict[str, object]:
        kept = [[line, reason] for line, reason in self.errors[:ERRORS_KEPT]]
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "errors": kept,
        }


class ImportJobRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, job: ImportJob) -> ImportJob:
        self._session.add(job)
        await self._session.flush()
        return job

    async def get(self, job_id: int) -> ImportJob | None:
        return await self._session.get(ImportJob, job_id)

    async def start(self, job_id: int, *, now: datetime) -> bool:
        """Queued -> running; False when the job is not queued (failed meanwhile)."""
        return await self._move(job_id, (QUEUED,), {"status": RUNNING, "heartbeat_at": now})

    async def progress(self, job_id: int, done: Progress, *, now: datetime) -> bool:
        """Counts and heartbeat of a running job; False when it is no longer running."""
        return await self._move(job_id, (RUNNING,), {**done.values(), "heartbeat_at": now})

    async def finish(self, job_id: int, done: Progress, *, now: datetime) -> bool:
        values = {**done.values(), "status": DONE, "heartbeat_at": now, "finished_at": now}
        return await self._move(job_id, (RUNNING,), values)

    async def fail(self, job_id: int, failure: str, *, now: datetime, done: Progress | None = None) -> bool:
        """Mark an unfinished job failed, saying why (in words, never a value of the file)."""
        values = {**(done.values() if done else {}), "status": FAILED, "failure": failure[:FAILURE_LENGTH]}
        return await self._move(job_id, UNFINISHED, {**values, "finished_at": now})

    async def unfinished(self) -> list[ImportJob]:
        result = await self._session.execute(
            select(ImportJob).where(col(ImportJob.status).in_(UNFINISHED)).order_by(col(ImportJob.id))
        )
        return list(result.scalars())

    async def _move(self, job_id: int, allowed: Sequence[str], values: dict[str, object]) -> bool:
        result = await self._session.execute(
            update(ImportJob)
            .where(col(ImportJob.id) == job_id, col(ImportJob.status).in_(allowed))
            .values(**values)
            .returning(col(ImportJob.id))
        )
        return result.scalar_one_or_none() is not None
