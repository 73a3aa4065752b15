"""Residents import jobs: a file uploaded to the API, imported in the background by the process that
took it, through the CLI's own import (`residents_import.import_residents`: the same rules).

Progress and rejected rows (line and reason, never a value) are written after each batch with a
heartbeat. A job is never left looking alive when nothing runs it: the process marks its jobs failed
when it stops; and one that died without a word (killed, crashed) is found out when its job is read
or a process starts, by its process gone from this host or its heartbeat older than ABANDONED_AFTER.
The file holds addresses, so it is deleted as soon as its job ends, however it ends.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from outreach import audit
from outreach.audit import Actor
from outreach.campaigns.parse_ahead import ParsingFailed
from outreach.campaigns.resident_rows import ImportFileError
from outreach.campaigns.residents_import import BATCH_SIZE, ImportReport, import_residents
from outreach.clock import Clock
from storage import import_jobs
from storage.consent_ledger import Source
from storage.db import SessionFactory, read_session
from storage.import_jobs import ImportJobRepository, Progress
from storage.residents import OnMatch
from storage.tables import ImportJob

log = logging.getLogger(__name__)

# A running job writes its heartbeat after every batch (seconds apart); this much silence means its
# process is gone even when it ran on another host.
ABANDONED_AFTER = timedelta(minutes=5)
AGAIN = (
    "the rows counted were stored (and at most one batch more); upload the file again for the rest"
    " (rows stored already are taken as known)"
)
STOPPED = "the service stopped (a restart or shutdown) while importing; " + AGAIN
ABANDONED = "the process importing it stopped without finishing (killed or crashed); " + AGAIN
STORE_FAILED = "the store failed while importing; " + AGAIN
PARSER_FAILED = (
    "the process checking the file's rows stopped (killed, out of memory, or a defect: see the log); " + AGAIN
)


@dataclass(frozen=True)
class ImportOptions:
    region: str  # of phone numbers written without +prefix
    on_match: OnMatch
    label: str  # the recruitment source of the residents it adds


def this_worker() -> str:
    """host:pid of this process: whether a job's process is alive can be told on its host."""
    return f"{socket.gethostname()}:{os.getpid()}"


def job_file(directory: Path, job_id: int) -> Path:
    return directory / f"{job_id}.csv"


def discard(path: Path) -> None:
    """Delete a job's file (it holds addresses); a local unlink, quick enough for the event loop."""
    path.unlink(missing_ok=True)


def progress_of(report: ImportReport) -> Progress:
    return Progress(
        rows=report.rows,
        created=report.created,
        updated=report.updated,
        unchanged=report.unchanged,
        rejected=len(report.errors),
        errors=[(error.line, error.message) for error in report.errors],
    )


async def create_job(
    sessions: SessionFactory,
    options: ImportOptions,
    *,
    actor: Actor,
    token_id: int | None,
    size: int,
    clock: Clock,
) -> int:
    """A queued job for an uploaded file of `size` bytes, recorded in the audit log as `actor`'s; its id."""
    now = clock()
    job = ImportJob(
        token_id=token_id,
        status=import_jobs.QUEUED,
        region=options.region,
        on_match=options.on_match.value,
        label=options.label,
        size_bytes=size,
        worker=this_worker(),
        created_at=now,
        heartbeat_at=now,
    )
    async with sessions() as session, session.begin():
        await ImportJobRepository(session).add(job)
        assert job.id is not None
        details: dict[str, audit.DetailValue] = {"bytes": size, "on_match": options.on_match.value}
        await audit.record(session, actor, audit.RESIDENTS_IMPORT, "import_job", job.id, details, at=now)
    return job.id


class JobTakenAway(Exception):
    """The job was marked failed while it ran (its heartbeat looked dead): stop writing."""


async def run_job(
    sessions: SessionFactory,
    job_id: int,
    path: Path,
    *,
    clock: Clock,
    age_bands: Sequence[str],
    batch_size: int = BATCH_SIZE,
    pseudonym_secret: str | None = None,
) -> None:
    """Import the job's file, writing progress after each batch; the file is deleted after. A stop
    (cancellation) leaves the job to `fail_jobs`; any other failure marks it failed here."""
    try:
        async with sessions() as session, session.begin():
            repository = ImportJobRepository(session)
            job = await repository.get(job_id)
            if job is None or not await repository.start(job_id, now=clock()):
                return
        options = ImportOptions(job.region, OnMatch(job.on_match), job.label)
        await _import(
            sessions,
            job_id,
            path,
            options,
            clock=clock,
            age_bands=age_bands,
            batch_size=batch_size,
            pseudonym_secret=pseudonym_secret,
        )
    finally:
        discard(path)


async def _import(
    sessions: SessionFactory,
    job_id: int,
    path: Path,
    options: ImportOptions,
    *,
    clock: Clock,
    age_bands: Sequence[str],
    batch_size: int,
    pseudonym_secret: str | None,
) -> None:
    async def batch_done(report: ImportReport) -> None:
        async with sessions() as session, session.begin():
            if not await ImportJobRepository(session).progress(job_id, progress_of(report), now=clock()):
                raise JobTakenAway

    try:
        report = await import_residents(
            sessions,
            path,
            region=options.region,
            clock=clock,
            age_bands=age_bands,
            on_match=options.on_match,
            label=options.label,
            on_batch=batch_done,
            batch_size=batch_size,
            source=Source.API,
            pseudonym_secret=pseudonym_secret,
        )
    except ImportFileError as error:
        await fail_jobs(sessions, [job_id], str(error).replace(str(path), "the file"), clock=clock)
        return
    except JobTakenAway:
        log.warning("import job %d was marked failed while it ran; it stops", job_id)
        return
    except ParsingFailed as error:
        log.error("import job %d stopped: %s", job_id, error)  # no row's values in it (parse_ahead)
        await fail_jobs(sessions, [job_id], PARSER_FAILED, clock=clock)
        return
    except Exception:
        log.exception("import job %d failed", job_id)
        with contextlib.suppress(Exception):  # the store may be the failure: then a restart finds it
            await fail_jobs(sessions, [job_id], STORE_FAILED, clock=clock)
        return
    async with sessions() as session, session.begin():
        await ImportJobRepository(session).finish(job_id, progress_of(report), now=clock())


async def fail_jobs(sessions: SessionFactory, job_ids: Sequence[int], failure: str, *, clock: Clock) -> None:
    """Mark these jobs failed, those still unfinished (their counts so far stay)."""
    async with sessions() as session, session.begin():
        repository = ImportJobRepository(session)
        for job_id in job_ids:
            await repository.fail(job_id, failure, now=clock())


def abandoned(job: ImportJob, clock: Clock) -> bool:
    """An unfinished job whose process is gone: not running on this host, or silent too long."""
    if job.status not in import_jobs.UNFINISHED:
        return False
    if clock() - job.heartbeat_at > ABANDONED_AFTER:
        return True
    host, _, pid = job.worker.rpartition(":")
    return host == socket.gethostname() and pid.isdigit() and not _alive(int(pid))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


async def fail_abandoned(sessions: SessionFactory, directory: Path, *, clock: Clock) -> list[int]:
    """At a process's start: mark failed the jobs whose process is gone, and delete their files."""
    async with read_session(sessions) as session:
        gone = [job.id for job in await ImportJobRepository(session).unfinished() if abandoned(job, clock)]
    ids = [job_id for job_id in gone if job_id is not None]
    if ids:
        await fail_jobs(sessions, ids, ABANDONED, clock=clock)
        for job_id in ids:
            discard(job_file(directory, job_id))
        log.warning("import jobs %s were left unfinished by a process that stopped: marked failed", ids)
    return ids


async def read_job(sessions: SessionFactory, job_id: int, *, clock: Clock) -> ImportJob | None:
    """The job as it stands; one whose process is gone is marked failed first, never shown running."""
    async with read_session(sessions) as session:
        job = await ImportJobRepository(session).get(job_id)
    if job is None or not abandoned(job, clock):
        return job
    await fail_jobs(sessions, [job_id], ABANDONED, clock=clock)
    async with read_session(sessions) as session:
        return await ImportJobRepository(session).get(job_id)
