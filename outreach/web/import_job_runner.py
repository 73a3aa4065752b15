"""The residents import jobs of this serve process: run one at a time in the background, owned by the
app's lifecycle. At start, jobs that a stopped process left unfinished are marked failed; at stop, the
jobs still queued or running here are cancelled and marked failed (nothing is left looking alive)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from outreach.bootstrap import Services
from outreach.campaigns.import_jobs import STOPPED, discard, fail_abandoned, fail_jobs, run_job
from outreach.web.keys import SERVICES
from storage.db import STORE_UNAVAILABLE

log = logging.getLogger(__name__)


class ImportJobRunner:
    """Jobs of this process, one importing at a time (the others wait queued): two imports at once
    would only take turns at the store's write lock."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._one_at_a_time = asyncio.Semaphore(1)

    @property
    def directory(self) -> Path:
        return self._services.settings.import_jobs_dir

    def submit(self, job_id: int, path: Path) -> None:
        task = asyncio.create_task(self._run(job_id, path), name=f"import-job-{job_id}")
        self._tasks[job_id] = task
        task.add_done_callback(lambda _: self._tasks.pop(job_id, None))

    async def _run(self, job_id: int, path: Path) -> None:
        try:
            async with self._one_at_a_time:
                services = self._services
                await run_job(
                    services.sessions,
                    job_id,
                    path,
                    clock=services.clock,
                    age_bands=services.settings.age_bands,
                    pseudonym_secret=services.settings.pseudonym_key(),  # suppressed addresses' hashes
                )
        finally:
            discard(path)  # also when cancelled while queued

    async def stop(self) -> None:
        """Cancel the jobs of this process and mark them failed, saying the service stopped."""
        stopped = list(self._tasks)
        for task in list(self._tasks.values()):
            task.cancel()
        for task in list(self._tasks.values()):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if stopped:
            try:
                await fail_jobs(self._services.sessions, stopped, STOPPED, clock=self._services.clock)
            except STORE_UNAVAILABLE:  # the next process to start finds them (outreach.campaigns.import_jobs)
                log.warning("import jobs %s stopped; the store is unavailable to say so", stopped)
            else:
                log.warning("import jobs %s stopped with the service: marked failed", stopped)


IMPORT_JOBS = web.AppKey("import_jobs", ImportJobRunner)


async def import_jobs_running(app: web.Application) -> AsyncIterator[None]:
    """The cleanup context of the app: the runner, from start to stop."""
    services = app[SERVICES]
    runner = ImportJobRunner(services)
    app[IMPORT_JOBS] = runner
    try:
        await fail_abandoned(services.sessions, runner.directory, clock=services.clock)
    except STORE_UNAVAILABLE:  # looked at again when a job is read
        log.warning("could not look for import jobs left unfinished: the store is unavailable")
    yield
    await runner.stop()
