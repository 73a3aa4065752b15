"""POST /api/v1/residents/imports and GET …/{id}: a residents file streamed in, imported by a job in the
background by the CLI's rules, its progress and rejected lines read while it runs."""

from __future__ import annotations

import asyncio
import io
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from outreach.audit import Actor
from outreach.bootstrap import Services
from outreach.campaigns.import_jobs import ABANDONED, PARSER_FAILED, STOPPED, ImportOptions, create_job
from outreach.campaigns.parse_ahead import PROCESS_FROM_BYTES
from storage.residents import OnMatch
from storage.tables import AuditEntry, ContactAddress, ImportJob, Resident
from tests.conftest import ManualClock
from tests.outreach.web.api.conftest import AppClient
from tests.outreach.web.api.helpers import auth, bearer, token
from tests.parsers import new_parser, parsing_processes
from tests.world import open_world

IMPORTS = "/api/v1/residents/imports"
HEADER = "phone,language,consent_source,consent_at,district,note\n"
NOTE = "n" * 180  # an attribute long enough that a few thousand rows pass aiohttp's 1 MiB default
BAD_PHONE = "+4860010"  # too short: rejected by the phonenumbers rules, never echoed


def residents_csv(rows: int, *, bad_at: int | None = None) -> bytes:
    """A file of `rows` residents; the data row number `bad_at` (from 0) has a bad phone."""
    lines = [HEADER]
    for index in range(rows):
        phone = BAD_PHONE if index == bad_at else f"+48600{index:06d}"
        lines.append(f"{phone},pl,city register,2026-03-01T12:00:00+01:00,Orunia,{NOTE}\n")
    return "".join(lines).encode()


async def in_chunks(data: bytes, size: int = 50_000) -> AsyncIterator[bytes]:
    """The body as a generator: sent chunked, with no Content-Length."""
    for start in range(0, len(data), size):
        yield data[start : start + size]
        await asyncio.sleep(0)


async def finished(
    api: AppClient, job_id: int, headers: dict[str, str]
) -> tuple[dict[str, Any], list[tuple[str, int]]]:
    """The job once done or failed, and each state seen on the way (status, rows read)."""
    seen: list[tuple[str, int]] = []
    async with asyncio.timeout(60):
        while True:
            response = await api.get(f"{IMPORTS}/{job_id}", headers=headers)
            assert response.status == 200, await response.text()
            body = await response.json()
            seen.append((body["status"], body["rows"]))
            if body["status"] in ("done", "failed"):
                return body, seen
            await asyncio.sleep(0.02)  # the job runs in the server's loop: polled, as a client would


async def residents_stored(services: Services) -> int:
    async with services.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(Resident))).scalar_one())


async def test_a_file_over_one_mib_sent_in_chunks_is_imported_and_its_bad_line_named(
    services: Services, api: AppClient
) -> None:
    data = residents_csv(5000, bad_at=4321)
    assert len(data) > 1 << 20  # beyond aiohttp's client_max_size: a handler reading it whole would get 413
    headers = await auth(services, "admin")
    response = await api.post(IMPORTS + "?label=school%20list", headers=headers, data=in_chunks(data))
    assert response.status == 202, await response.text()
    accepted = await response.json()
    assert accepted["status"] in ("queued", "running")
    assert response.headers["Location"] == f"{IMPORTS}/{accepted['id']}"

    body, seen = await finished(api, accepted["id"], headers)
    assert [rows for _, rows in seen] == sorted(rows for _, rows in seen)  # progress only grows
    assert {key: body[key] for key in ("status", "rows", "accepted", "imported", "updated", "skipped")} == {
        "status": "done",
        "rows": 5000,
        "accepted": 4999,
        "imported": 4999,
        "updated": 0,
        "skipped": 0,
    }
    # Data row 4321 is line 4323 of the file (the header is line 1); its value is never said.
    assert body["rejected"] == 1
    assert body["errors"] == [
        {"line": 4323, "message": "phone is not a valid number (region PL is assumed without a +prefix)"}
    ]
    assert body["failure"] is None and body["size_bytes"] == len(data)
    text = await (await api.get(f"{IMPORTS}/{accepted['id']}", headers=headers)).text()
    assert BAD_PHONE not in text and "+48600" not in text
    assert await residents_stored(services) == 4999
    async with services.sessions() as session:
        sources = (await session.execute(select(col(Resident.attributes)).limit(1))).scalar_one()
    assert sources["recruitment_source"] == "school list"
    assert list(services.settings.import_jobs_dir.iterdir()) == []  # the file, addresses and all, is gone
    async with services.sessions() as session:
        entry = (await session.execute(select(AuditEntry))).scalars().one()
    assert (entry.actor_kind, entry.actor_label, entry.action) == ("token", "test", "residents.import")
    assert (entry.target_kind, entry.target_id, entry.details) == (
        "import_job",
        str(accepted["id"]),
        {"bytes": len(data), "on_match": "skip"},
    )


async def test_a_body_over_the_limit_is_413_and_nothing_is_imported(services: Services, api: AppClient) -> None:
    object.__setattr__(services.settings, "import_max_bytes", 100_000)
    headers = await auth(services, "residents:write")
    data = residents_csv(1000)  # about 250 kB
    declared = await api.post(IMPORTS, headers=headers, data=data)  # Content-Length: refused before reading
    assert declared.status == 413
    assert (await declared.json())["error"]["code"] == "body_too_large"
    streamed = await api.post(IMPORTS, headers=headers, data=in_chunks(data, 10_000))  # found out on the way
    assert streamed.status == 413
    assert await residents_stored(services) == 0
    async with services.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(ImportJob))).scalar_one() == 0
    assert list(services.settings.import_jobs_dir.iterdir()) == []


async def test_a_file_the_import_folder_cannot_take_is_503_and_nothing_is_kept(
    services: Services, api: AppClient, tmp_path: Path
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    object.__setattr__(services.settings, "import_dir", blocked / "imports")
    response = await api.post(IMPORTS, headers=await auth(services, "residents:write"), data=residents_csv(3))
    assert response.status == 503
    assert (await response.json())["error"]["code"] == "store_unavailable"
    async with services.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(ImportJob))).scalar_one() == 0


async def test_a_job_is_read_by_its_token_and_admins_only_and_known_residents_are_not_told(
    services: Services, api: AppClient
) -> None:
    mine, other, admin = [await auth(services, scope) for scope in ("residents:write", "residents:write", "admin")]
    response = await api.post(IMPORTS, headers=mine, data=residents_csv(3))
    job_id = (await response.json())["id"]
    body, _ = await finished(api, job_id, mine)
    assert (body["status"], body["accepted"], body["imported"], body["skipped"]) == ("done", 3, None, None)
    assert (await api.get(f"{IMPORTS}/{job_id}", headers=other)).status == 404
    by_admin = await (await api.get(f"{IMPORTS}/{job_id}", headers=admin)).json()
    assert (by_admin["imported"], by_admin["skipped"]) == (3, 0)
    # The same file again through residents:write: the same answer as a file of new residents.
    again = (await (await api.post(IMPORTS, headers=mine, data=residents_csv(3))).json())["id"]
    body, _ = await finished(api, again, mine)
    assert (body["accepted"], body["imported"], body["updated"], body["skipped"]) == (3, None, None, None)
    assert (await api.get(f"{IMPORTS}/999", headers=admin)).status == 404


async def test_only_an_admin_may_import_with_update_or_merge(services: Services, api: AppClient) -> None:
    response = await api.post(
        IMPORTS + "?on_match=merge", headers=await auth(services, "residents:write"), data=residents_csv(3)
    )
    assert response.status == 403
    async with services.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(ImportJob))).scalar_one() == 0


async def test_a_file_that_is_no_residents_file_fails_its_job_saying_why(services: Services, api: AppClient) -> None:
    headers = await auth(services, "residents:write")
    response = await api.post(IMPORTS, headers=headers, data="name,street\nAnna,Długa 1\n".encode())
    body, _ = await finished(api, (await response.json())["id"], headers)
    assert body["status"] == "failed"
    assert body["failure"].startswith("the file:1: the header needs at least one address column")
    empty = await api.post(IMPORTS, headers=headers, data=b"")
    assert empty.status == 422


async def test_a_service_stopped_mid_job_marks_it_failed_and_keeps_what_was_stored(
    services: Services, database_url: str, clock: ManualClock
) -> None:
    data = residents_csv(20_000)
    async with open_world(database_url, clock) as world:
        headers = bearer(await token(world.services, "admin"))
        response = await world.client.post(IMPORTS, headers=headers, data=io.BytesIO(data))
        assert response.status == 202
        job_id = (await response.json())["id"]
        import_dir = world.services.settings.import_jobs_dir
    # The service stopped (as on SIGTERM) with the job under way.
    async with services.sessions() as session:
        job = await session.get_one(ImportJob, job_id)
        addresses = (await session.execute(select(func.count()).select_from(ContactAddress))).scalar_one()
    assert (job.status, job.failure) == ("failed", STOPPED)
    assert job.rows < 20_000 and addresses == job.created  # what it counted is what is stored
    assert not import_dir.exists() or list(import_dir.iterdir()) == []


async def test_a_job_whose_parsing_process_dies_fails_saying_so_and_keeps_what_was_stored(
    services: Services, api: AppClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})  # a parser runs where two CPUs are
    data = residents_csv(20_000)
    assert len(data) > PROCESS_FROM_BYTES  # checked by a parsing process
    headers = await auth(services, "admin")
    before = parsing_processes()
    response = await api.post(IMPORTS, headers=headers, data=io.BytesIO(data))
    assert response.status == 202, await response.text()
    os.kill(await new_parser(before), signal.SIGKILL)
    body, _ = await finished(api, (await response.json())["id"], headers)
    assert (body["status"], body["failure"]) == ("failed", PARSER_FAILED)
    assert body["rows"] < 20_000 and await residents_stored(services) == body["imported"]
    assert list(services.settings.import_jobs_dir.iterdir()) == []


@pytest.mark.parametrize("how", ["its heartbeat went silent", "its process on this host is gone"])
async def test_a_job_whose_process_died_is_failed_when_read_or_at_the_next_start(
    how: str, services: Services, database_url: str, clock: ManualClock
) -> None:
    options = ImportOptions("PL", OnMatch.SKIP, "api")
    job_id = await create_job(services.sessions, options, actor=Actor.cli(), token_id=None, size=10, clock=clock)
    async with services.sessions() as session, session.begin():
        job = await session.get_one(ImportJob, job_id)
        job.status = "running"
        if how == "its heartbeat went silent":
            job.worker = "another-host:1234"
        else:
            process = await asyncio.create_subprocess_exec("true")
            await process.wait()
            job.worker = job.worker.rpartition(":")[0] + f":{process.pid}"  # this host, a pid that ended
    async with open_world(database_url, clock) as world:
        headers = bearer(await token(world.services, "admin"))
        if how == "its heartbeat went silent":
            body = await (await world.client.get(f"{IMPORTS}/{job_id}", headers=headers)).json()
            assert body["status"] == "running"  # another host's job, heard from a moment ago
            clock.advance(minutes=6)
        body = await (await world.client.get(f"{IMPORTS}/{job_id}", headers=headers)).json()
    assert (body["status"], body["failure"]) == ("failed", ABANDONED)
