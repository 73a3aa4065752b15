"""After an erasure the whole database, dumped, holds the resident's addresses in no form, nor the
identifying parts of their free-text answer: SQLite's file and WAL read as bytes (secure_delete on,
the WAL checkpointed), PostgreSQL through pg_dump."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path

import pytest

from outreach.bootstrap import Services
from storage.db import is_sqlite
from tests.conftest import admin_dsn
from tests.outreach.rights.scenario import CHAT_ID, NATIONAL, OFFICIAL, PHONE, TRACES, answered_and_stopped, requests


def _checkpointed_file_and_wal(path: Path) -> bytes:
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


async def _sqlite_bytes(services: Services, url: str) -> bytes:
    await services.engine.dispose()  # the service's connections closed: nothing held in a cache
    return await asyncio.to_thread(_checkpointed_file_and_wal, Path(url.split(":///", 1)[1]))


async def _pg_dump(url: str) -> bytes:
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    dsn = admin_dsn(url)
    process = await asyncio.create_subprocess_exec(
        "pg_dump", "--no-owner", dsn, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out


async def test_a_dump_after_erasure_holds_the_address_in_no_form(services: Services) -> None:
    await answered_and_stopped(services)
    url = services.settings.database_url
    dump = (await _sqlite_bytes(services, url) if is_sqlite(url) else await _pg_dump(url)).lower()
    # Addresses are encrypted at rest (revision 0029): the phone and the chat id are in no form in the
    # dump even before the erasure. The rest is there before, so the search would find it.
    assert [trace for trace in (NATIONAL, CHAT_ID) if trace.encode() in dump] == []
    assert [trace for trace in TRACES if trace.encode() not in dump] == [NATIONAL, CHAT_ID]

    await requests(services).erase(PHONE, actor=OFFICIAL)

    dump = (await _sqlite_bytes(services, url) if is_sqlite(url) else await _pg_dump(url)).lower()
    assert [trace for trace in TRACES if trace.encode() in dump] == []
