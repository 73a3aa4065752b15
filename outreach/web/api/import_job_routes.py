"""Residents import jobs on /api/v1: a CSV file uploaded (streamed to disk, up to IMPORT_MAX_BYTES,
never held in memory), answered 202 with a job at once, imported in the background by the CLI's own
import; the job's progress and rejected rows (line and reason, never a value) read while it runs.

A job is read by the token that made it and by admin tokens; to others it does not exist (404). How
many rows added a resident and how many met a known one is told to admin readers only: to anyone else
it would say whether an address is in the register (with a one-row file, whose)."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
from pathlib import Path

from aiohttp import StreamReader, web

from outreach.campaigns.import_jobs import ImportOptions, create_job, discard, job_file, read_job
from outreach.web.api.errors import ApiError
from outreach.web.api.import_job_models import ImportJobState, RejectedLine
from outreach.web.api.models import ResidentsOptions
from outreach.web.api.registry import API_PREFIX, ApiRoute, Call
from outreach.web.api.resident_routes import allowed_on_match, is_admin
from outreach.web.import_job_runner import IMPORT_JOBS
from storage.tables import ImportJob

IMPORTS_PATH = "/residents/imports"
CHUNK = 1 << 16  # read and written 64 KiB at a time: the upload's memory whatever its size
NOT_STORED = "the file could not be written to the import folder (OUTREACH_IMPORT_DIR); nothing was imported"

log = logging.getLogger(__name__)


def too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        "body_too_large",
        f"the file is larger than {limit} bytes (OUTREACH_IMPORT_MAX_BYTES); nothing was imported",
    )


async def _stream_to_disk(content: StreamReader, target: Path, limit: int) -> int:
    """The body written to `target` chunk by chunk and synced; its size. 413 past `limit` bytes."""
    size = 0
    with target.open("xb") as handle:
        os.chmod(target, 0o600)
        async for chunk in content.iter_chunked(CHUNK):
            size += len(chunk)
            if size > limit:
                raise too_large(limit)
            handle.write(chunk)  # a page-cache write of 64 KiB: not worth a thread
        handle.flush()
        await asyncio.to_thread(os.fsync, handle.fileno())
    return size


async def start_import(call: Call) -> web.StreamResponse:
    options = call.query_as(ResidentsOptions)
    on_match = allowed_on_match(call, options)
    settings = call.services.settings
    limit = settings.import_max_bytes
    request = call.request
    if request.content_length is not None and request.content_length > limit:
        raise too_large(limit)  # said before a byte is read
    runner = request.config_dict[IMPORT_JOBS]
    upload = runner.directory / f"upload-{secrets.token_hex(8)}.part"
    try:
        try:
            runner.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            size = await _stream_to_disk(request.content, upload, limit)
        except OSError as error:  # the disk (full, not writable), or the client gone mid-upload
            log.warning("an import upload was not stored: %s", type(error).__name__)
            raise ApiError(503, "store_unavailable", NOT_STORED) from None
        if size == 0:
            raise ApiError(422, "empty_body", "the body is empty: send the CSV file (curl --data-binary @file.csv)")
        region = (options.region or settings.default_region).upper()
        job_id = await create_job(
            call.services.sessions,
            ImportOptions(region, on_match, options.label),
            actor=call.actor,
            token_id=call.token.id if call.token else None,
            size=size,
            clock=call.services.clock,
        )
        path = job_file(runner.directory, job_id)
        upload.rename(path)
    finally:
        discard(upload)  # renamed already when all went well
    runner.submit(job_id, path)
    job = await read_job(call.services.sessions, job_id, clock=call.services.clock)
    assert job is not None
    state = job_state(job, breakdown=is_admin(call))
    headers = {"Location": f"{API_PREFIX}{IMPORTS_PATH}/{job_id}"}
    return web.Response(text=state.model_dump_json(), status=202, content_type="application/json", headers=headers)


async def import_status(call: Call) -> ImportJobState:
    job_id = call.path_ids["import_id"]
    job = await read_job(call.services.sessions, job_id, clock=call.services.clock)
    admin = is_admin(call)
    if job is None or not (admin or (call.token is not None and job.token_id == call.token.id)):
        raise ApiError(404, "not_found", f"no import job {job_id} of this token")
    return job_state(job, breakdown=admin)


def job_state(job: ImportJob, *, breakdown: bool) -> ImportJobState:
    assert job.id is not None
    return ImportJobState(
        id=job.id,
        status=job.status,  # one of storage.import_jobs' four (pydantic checks)
        rows=job.rows,
        accepted=job.created + job.updated + job.unchanged,
        imported=job.created if breakdown else None,
        updated=job.updated if breakdown else None,
        skipped=job.unchanged if breakdown else None,
        rejected=job.rejected,
        errors=[RejectedLine(line=line, message=message) for line, message in job.errors],
        failure=job.failure,
        size_bytes=job.size_bytes,
        created_at=job.created_at,
        finished_at=job.finished_at,
    )


IMPORT_JOB_ROUTES: list[ApiRoute] = [
    ApiRoute(
        "POST",
        IMPORTS_PATH,
        start_import,
        "startResidentsImport",
        "Import a residents file",
        "residents",
        scope="residents:write",
        query=ResidentsOptions,
        upload="text/csv",
        response=ImportJobState,
        status=202,
        unbound_only=True,
        description="The body is the residents CSV file itself (UTF-8, a header row; the format of `outreach"
        " residents import`), sent as is, up to OUTREACH_IMPORT_MAX_BYTES (1 GiB by default; beyond it 413 and"
        " nothing is imported). Answered at once with the queued job and its Location; the import runs in the"
        " background by the same rules as the CLI's: good rows go in, bad rows are reported by line, naming the"
        " field, never its value.",
    ),
    ApiRoute(
        "GET",
        IMPORTS_PATH + "/{import_id}",
        import_status,
        "getResidentsImport",
        "An import job's progress",
        "residents",
        scope="residents:write",
        response=ImportJobState,
        unbound_only=True,
        description="Status (queued, running, done, failed), rows read, accepted and rejected so far (updated"
        " after each batch of 2,000 rows), the rejected rows by line. Readable by the token that started the job"
        " and by admin tokens; how many rows were new residents and how many known ones, by admin tokens only.",
    ),
]
