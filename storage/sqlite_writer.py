"""A SQLite connection for short write transactions that runs its statements in the event loop once it
holds the write lock.

aiosqlite hands every call (cursor, execute, fetch, close, commit) to the connection's own thread and
wakes the loop when it is done: three or four hand-offs per statement, each a thread switch and a trip
through the loop's self-pipe. The inbound path runs a dozen statements per reply, so the hand-offs, not
SQLite, set its pace (issue 18's profile: 56 hand-offs and 4.4 ms of `SimpleQueue.put_nowait` per reply
under load, the loop idle half the time).

Only waiting for another writer can take long in WAL mode, and only `BEGIN IMMEDIATE` waits for it (in
SQLite's busy handler, which sleeps). So `BEGIN IMMEDIATE` still goes to the thread, where that wait
blocks nothing else; once it returned, this connection is the one writer: its statements wait for nobody
(readers never block a WAL writer), and each is a point read or a row written, tens of microseconds, so
they run in the loop as the bare sqlite3 baseline does. The COMMIT goes back to the thread: it waits for
the disk (each commit syncs the WAL, storage.db), 0.6 ms typically here and more on a busy disk, and the
loop goes on meanwhile (run in it, the syncs made the dispatcher's sends miss their limiter slots and
slowed the webhooks). A connection of this kind is for write transactions that stay short (the inbound
group commits, the inbound queue's rows, the dispatcher's claims and outcomes); exports and bulk writes
keep the thread-per-call engine, which never holds the loop.

A call runs in the loop only while the thread has nothing in hand: a task cancelled while its COMMIT
runs in the thread leaves that COMMIT running, and the rollback or close that follows must queue behind
it, not run beside it on the same sqlite3 connection from another thread.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import aiosqlite

T = TypeVar("T")


class InlineWhileWritingConnection(aiosqlite.Connection):
    """aiosqlite's connection, but a call made inside a transaction runs at once, in the loop."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], iter_chunk_size: int) -> None:
        super().__init__(connector, iter_chunk_size)
        self._calls_in_thread = 0  # queued or running there; counted under the lock, from both threads
        self._calls_lock = threading.Lock()

    async def _execute(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        connection = self._connection
        # In a transaction: BEGIN IMMEDIATE has returned (the only way this connection's transactions
        # begin, storage.db), so the write lock is ours and nothing below waits for another writer.
        if self._running and connection is not None and connection.in_transaction and not self._calls_in_thread:
            return fn(*args, **kwargs)
        return await self._in_thread(fn, *args, **kwargs)

    async def commit(self) -> None:
        """In the connection's thread, always: the one statement that waits for the disk."""
        await self._in_thread(self._conn.commit)

    async def _in_thread(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        def counted() -> T:
            try:
                return fn(*args, **kwargs)
            finally:
                with self._calls_lock:
                    self._calls_in_thread -= 1

        if self._running and self._connection is not None:  # else aiosqlite raises, queueing nothing
            with self._calls_lock:
                self._calls_in_thread += 1
        result: T = await super()._execute(counted)  # type: ignore[no-untyped-call]
        return result


def connect_inline_while_writing(path: str, *, timeout: float) -> InlineWhileWritingConnection:
    """A not-yet-opened connection to the database file at `path` (SQLAlchemy awaits it)."""
    # Both the connection's thread and the loop's thread use it, one after the other, never at once.
    connector = partial(sqlite3.connect, path, timeout=timeout, check_same_thread=False)
    connection = InlineWhileWritingConnection(connector, iter_chunk_size=64)
    connection._thread.daemon = True  # as SQLAlchemy sets for its own aiosqlite connections
    return connection
