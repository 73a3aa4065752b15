"""Revisions 0029 and 0030 encrypt the addresses and messages a database already holds: made at
revision 0028 with phones, emails, chat ids and residents' messages in the clear, then upgraded, the
database (SQLite's file and WAL as bytes, the WAL checkpointed; PostgreSQL through pg_dump) holds
none of them in the clear; each address is found by its blind index and opens to what it was, and
each message opens to what it said."""

from __future__ import annotations

import asyncio
import base64
import shutil
import sqlite3
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from storage.address_keys import address_keys, address_of
from storage.db import create_engine, session_factory
from storage.keyring import Keyring, parse_encryption_keys
from storage.migrate import upgrade
from storage.residents import ResidentRepository
from storage.tables import InboundEvent
from tests.conftest import POSTGRES_URL, admin_dsn, unavailable
from tests.providers import BLIND_INDEX_KEY, ENCRYPTION_KEY_1
from tests.storage.plaintext_rows import insert_plaintext_residents

RING = Keyring(parse_encryption_keys(f"k1:{ENCRYPTION_KEY_1}", setting="test"), base64.b64decode(BLIND_INDEX_KEY))
MOMENT = datetime(2027, 1, 1, 10, tzinfo=UTC)
SQLITE_MOMENT = "2027-01-01 10:00:00.000000"  # as SQLite stores one
# More than one batch of the migration (1000), each kind of address.
ADDRESSES = [("sms", f"+4869{n:07d}") for n in range(1, 1004)] + [
    ("email", "anna.nowak@example.org"),
    ("email", "jan.kowalski@example.org"),
    ("telegram", "7312094558"),
    ("whatsapp", "+48691234567"),
]
# What residents wrote (revision 0030 seals it): a reply, and a mail kept whole.
REPLY, MAIL = "dzwońcie pod 601 234 567", "From: Anna <anna.nowak@example.org>\n\nTak, jeżdżę"
# What a search for the plaintext looks for: the national digits are inside every E.164 form.
TRACES = [address.removeprefix("+48").encode() for _, address in ADDRESSES] + [b"601 234 567", "jeżdżę".encode()]


async def _stored_in_the_clear(engine: AsyncEngine, moment: datetime | str) -> None:
    async with engine.begin() as connection:
        await insert_plaintext_residents(connection, dict(enumerate(ADDRESSES, start=1)), moment)
        for event_id, (channel, text_, full_text) in enumerate([("sms", REPLY, None), ("email", "Tak", MAIL)], 1):
            await connection.execute(
                text(
                    "INSERT INTO inbound_events (id, channel, provider_id, contact_id, text, full_text, outcome,"
                    " received_at) VALUES (:id, :channel, :provider_id, NULL, :text, :full_text, 'answered', :at)"
                ),
                {"id": event_id, "channel": channel, "provider_id": f"P{event_id}", "text": text_}
                | {"full_text": full_text, "at": moment},
            )


async def _each_found_and_opened(engine: AsyncEngine) -> None:
    async with session_factory(engine, RING)() as session:
        keys = address_keys(session)
        events = (await session.execute(select(InboundEvent).order_by(col(InboundEvent.id)))).scalars()
        assert [
            (keys.open_message(e.channel, "text", e.text), keys.open_message(e.channel, "full_text", e.full_text))
            for e in events
        ] == [(REPLY, None), ("Tak", MAIL)]
        residents = ResidentRepository(session)
        for contact_id, (channel, address) in enumerate(ADDRESSES, start=1):
            contact = await residents.contact_by_address(channel, address)
            assert contact is not None and contact.id == contact_id
            assert address_of(session, contact) == address


def _checkpointed_file_and_wal(path: Path) -> bytes:
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


async def test_revision_0029_leaves_no_address_in_the_clear_in_the_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "outreach.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        await upgrade(engine, "0028")
        await _stored_in_the_clear(engine, SQLITE_MOMENT)
        await engine.dispose()
        before = _checkpointed_file_and_wal(path)
        assert all(trace in before for trace in TRACES)  # the search finds them while they are there
        await upgrade(engine, keyring=RING)
        await engine.dispose()  # every connection closed: the WAL is checkpointed
        after = _checkpointed_file_and_wal(path)
        assert [trace for trace in TRACES if trace in after] == []
        await _each_found_and_opened(engine)
    finally:
        await engine.dispose()


async def _pg_dump(url: str) -> bytes:
    process = await asyncio.create_subprocess_exec(
        "pg_dump", "--no-owner", admin_dsn(url), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out


async def test_revision_0029_leaves_no_address_in_the_clear_in_a_pg_dump() -> None:
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    name = f"outreach_0029_{uuid.uuid4().hex[:10]}"
    try:
        server = await asyncpg.connect(admin_dsn(POSTGRES_URL), timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        unavailable("PostgreSQL is unreachable")
        return
    try:
        await server.execute(f'CREATE DATABASE "{name}"')
        url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
        engine = create_engine(url)
        try:
            await upgrade(engine, "0028")
            await _stored_in_the_clear(engine, MOMENT)
            before = await _pg_dump(url)
            assert all(trace in before for trace in TRACES)  # the search finds them while they are there
            await upgrade(engine, keyring=RING)
            dump = await _pg_dump(url)
            assert [trace for trace in TRACES if trace in dump] == []
            await _each_found_and_opened(engine)
        finally:
            await engine.dispose()
    finally:
        await server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await server.close()
