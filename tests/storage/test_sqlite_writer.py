"""SQLite's inline writer (storage.sqlite_writer): once BEGIN IMMEDIATE holds the write lock, a write
transaction's statements run in the event loop's own thread; waiting for another writer's lock stays in
the connection's thread, so the loop goes on serving meanwhile. SQLite only: PostgreSQL has no such
connection (its grouped commits are tested in test_group_commit.py on both databases)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine, session_factory
from storage.sqlite_writer import InlineWhileWritingConnection, connect_inline_while_writing


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "writer.db"
    with sqlite3.connect(path) as setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    return path


@pytest.fixture
async def engine(database: Path) -> AsyncIterator[AsyncEngine]:
    made = create_engine(f"sqlite+aiosqlite:///{database}", inline_writes=True)

    @event.listens_for(made.sync_engine, "connect")
    def thread_id_function(dbapi_connection: Any, _record: Any) -> None:
        # SQL that answers which thread runs it.
        dbapi_connection.create_function("thread_id", 0, threading.get_ident)

    yield made
    await made.dispose()


async def test_a_write_transactions_statements_run_in_the_loops_thread(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        await session.execute(text("INSERT INTO notes (body) VALUES ('tak')"))
        ran_in = await session.scalar(text("SELECT thread_id()"))
        driver = (await session.connection()).sync_connection
        assert driver is not None
        raw = driver.connection.driver_connection
    assert isinstance(raw, InlineWhileWritingConnection)
    assert ran_in == threading.get_ident()
    # Outside a transaction (nothing holds the lock) a call goes to the connection's thread as before.
    async with engine.connect() as connection:
        driver_connection = (await connection.get_raw_connection()).driver_connection
        assert isinstance(driver_connection, InlineWhileWritingConnection)
        outside = await driver_connection.execute("SELECT thread_id()")
        assert (await outside.fetchone()) != (threading.get_ident(),)
    async with sessions() as session:
        assert await session.scalar(text("SELECT count(*) FROM notes")) == 1  # the insert was committed


async def test_the_commit_waits_for_the_disk_in_the_connections_thread(engine: AsyncEngine) -> None:
    """COMMIT syncs the WAL (synchronous=FULL, storage.db): it alone of a write transaction's statements
    goes to the connection's thread, so the loop goes on while the disk syncs."""
    ran: list[tuple[str, int]] = []

    @event.listens_for(engine.sync_engine, "connect")
    def trace(dbapi_connection: Any, _record: Any) -> None:
        sqlite_connection = dbapi_connection._connection._conn  # under the adapter and aiosqlite
        sqlite_connection.set_trace_callback(lambda statement: ran.append((statement, threading.get_ident())))

    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        await session.execute(text("INSERT INTO notes (body) VALUES ('tak')"))
    threads = {statement.split()[0]: thread for statement, thread in ran}
    assert threads["INSERT"] == threading.get_ident()
    assert threads["COMMIT"] != threading.get_ident()


async def test_waiting_for_another_writers_lock_does_not_hold_the_loop(engine: AsyncEngine, database: Path) -> None:
    sessions = session_factory(engine)
    other = sqlite3.connect(database, isolation_level=None)  # another process's writer, say
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO notes (body) VALUES ('first')")
    beginning = asyncio.Event()

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def about_to_begin(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("BEGIN"):
            beginning.set()

    async def write() -> None:
        async with sessions() as session, session.begin():
            await session.execute(text("INSERT INTO notes (body) VALUES ('second')"))

    writing = asyncio.create_task(write())
    begun = asyncio.create_task(beginning.wait())
    await asyncio.wait([writing, begun], return_when=asyncio.FIRST_COMPLETED)
    assert begun.done(), writing.exception()
    for _ in range(50):  # the loop turns while BEGIN IMMEDIATE waits in the connection's thread
        await asyncio.sleep(0)
    assert not writing.done()
    other.execute("COMMIT")
    other.close()
    await writing
    async with sessions() as session:
        bodies = (await session.execute(text("SELECT body FROM notes ORDER BY id"))).scalars().all()
    assert bodies == ["first", "second"]  # the second writer went after the first, not through it


async def test_a_call_after_a_cancelled_commit_queues_behind_it(database: Path) -> None:
    """A task cancelled while its COMMIT runs in the connection's thread leaves that COMMIT running; the
    rollback or close that follows must wait for it in the thread, not run beside it in the loop."""
    connection = await connect_inline_while_writing(str(database), timeout=5)
    committing, release = threading.Event(), threading.Event()

    def hold_the_commit(statement: str) -> None:
        if statement == "COMMIT":
            committing.set()
            release.wait(timeout=10)  # holds SQLite's connection mutex, as a slow disk sync would

    try:
        await connection.execute("BEGIN IMMEDIATE")
        await connection.execute("INSERT INTO notes (body) VALUES ('tak')")
        connection._conn.set_trace_callback(hold_the_commit)
        commit = asyncio.create_task(connection.commit())
        await asyncio.to_thread(committing.wait, 10)
        commit.cancel()
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0)

        ticking = asyncio.create_task(tick())
        following = asyncio.create_task(connection.execute("SELECT count(*) FROM notes"))
        threading.Timer(2, release.set).start()  # ends the test (and the hang) on code that gets this wrong
        for _ in range(50):
            await asyncio.sleep(0)
        assert not following.done()  # queued behind the COMMIT, not run in the loop beside it
        assert ticks >= 40  # and the loop kept turning meanwhile
        assert not release.is_set()
        release.set()
        counted = await (await following).fetchone()
        assert counted == (1,)  # the COMMIT ran to its end before the query
        ticking.cancel()
    finally:
        release.set()
        await connection.close()
