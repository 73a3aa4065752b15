"""Import jobs across real `outreach serve` processes: one killed mid-job (SIGKILL: no word said) leaves
its job for the next process to mark failed at start; one stopped by SIGTERM marks its own job failed.
Neither leaves a job looking alive, nor its file (addresses) on disk."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from outreach.bootstrap import Services
from outreach.campaigns.import_jobs import ABANDONED, STOPPED
from storage.tables import ImportJob
from tests.outreach.web.api.helpers import bearer, token

READY_SECONDS = 30
# Thirty batches (a 3.7 MB file, so checked by a parsing process of its own, as a city's register is):
# the process is stopped a moment after the first is counted. With six, the whole import once ended
# between two polls of a loaded CI machine, and the test waited for a running job that had finished.
ROWS = 60_000


def residents_csv() -> bytes:
    lines = ["phone,language,consent_source,consent_at,district\n"]
    lines += [f"+48600{index:06d},pl,city register,2026-03-01T12:00:00+01:00,Oliwa\n" for index in range(ROWS)]
    return "".join(lines).encode()


@asynccontextmanager
async def serving(database_url: str, import_dir: Path, cwd: Path) -> AsyncIterator[tuple[Any, str]]:
    """`outreach serve` as a process of its own; (the process, its URL). Stopped by the test."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("OUTREACH_")}
    env.update(OUTREACH_DATABASE_URL=database_url, OUTREACH_IMPORT_DIR=str(import_dir), OUTREACH_LOG_LEVEL="WARNING")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "outreach.cli", "serve", "--port", "0",
        env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        while True:
            line = (await asyncio.wait_for(process.stdout.readline(), READY_SECONDS)).decode()
            assert line, "serve exited before it was ready"
            if line.startswith("outreach listening on "):
                break
        yield process, line.removeprefix("outreach listening on ").split(" ", 1)[0]
    finally:
        if process.returncode is None:
            process.kill()
        await process.communicate()


async def _until(condition: Callable[[], Awaitable[bool]]) -> None:
    """Wait for the other process to act (polling its effect in the database, not a timer)."""
    async with asyncio.timeout(READY_SECONDS):
        while not await condition():  # noqa: ASYNC110 (another process acts: no Event to share)
            await asyncio.sleep(0.05)


async def _job(services: Services, job_id: int) -> ImportJob:
    async with services.sessions() as session:
        return await session.get_one(ImportJob, job_id)


async def _upload_until_running(services: Services, url: str, headers: dict[str, str], data: bytes) -> int:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{url}/api/v1/residents/imports", headers=headers, data=io.BytesIO(data)) as response,
    ):
        assert response.status == 202, await response.text()
        job_id = int((await response.json())["id"])

    async def importing() -> bool:
        job = await _job(services, job_id)
        assert job.status in ("queued", "running"), f"the job ended before it could be stopped: {job}"
        return job.status == "running" and job.rows > 0

    await _until(importing)
    return job_id


@pytest.mark.slow
async def test_a_killed_process_job_is_failed_by_the_next_one_and_a_stopped_one_fails_its_own(
    services: Services, database_url: str, tmp_path: Path
) -> None:
    headers = bearer(await token(services, "admin"))
    import_dir = tmp_path / "imports"
    data = residents_csv()
    async with serving(database_url, import_dir, tmp_path) as (first, url):
        killed = await _upload_until_running(services, url, headers, data)
        first.send_signal(signal.SIGKILL)
        await first.wait()
    left = await _job(services, killed)
    assert left.status == "running" and left.rows < ROWS  # nothing said it stopped: the next process must

    async with serving(database_url, import_dir, tmp_path) as (second, url):
        found = await _job(services, killed)  # marked failed at start, before the process took requests
        assert (found.status, found.failure) == ("failed", ABANDONED)
        assert found.rows == left.rows  # what it had counted stays
        stopped = await _upload_until_running(services, url, headers, data)
        second.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(second.wait(), READY_SECONDS) == 0
    job = await _job(services, stopped)
    assert (job.status, job.failure) == ("failed", STOPPED)
    assert list(import_dir.iterdir()) == []  # neither file was left behind
