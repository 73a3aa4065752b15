"""The async engine and sessions: SQLite (WAL) by default, PostgreSQL through asyncpg."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from storage.address_keys import ADDRESS_KEYS, AddressKeys
from storage.keyring import Keyring, development_keyring
from storage.sqlite_writer import connect_inline_while_writing

SQLITE_BEGIN_OPTION = "sqlite_begin"
SQLITE_BUSY_TIMEOUT = 30  # seconds a connection waits for another's write lock

# Every error the store raises. The background loops wait and go on by themselves when the database is
# back; the dispatcher's loops tell an outage from a defect or refused data (outreach.store_errors), the
# web (webhooks, the API) an outage from refused data (storage.failures), since refused data fails forever.
STORE_UNAVAILABLE = (DBAPIError, OSError, TimeoutError)

SessionFactory = async_sessionmaker[AsyncSession]


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def is_memory_sqlite(url: str) -> bool:
    """An in-memory SQLite database: each engine that opens one gets a database of its own."""
    return is_sqlite(url) and make_url(url).database in (None, "", ":memory:")


def create_engine(url: str, *, inline_writes: bool = False, **kwargs: Any) -> AsyncEngine:
    """`inline_writes` (SQLite): statements of a write transaction run in the event loop once BEGIN
    IMMEDIATE has the write lock (storage.sqlite_writer); for short transactions only."""
    # Bound values are addresses and answers: a traceback or a SQL log line names the statement only.
    kwargs.setdefault("hide_parameters", True)
    if not is_sqlite(url):
        # No ping before each checkout (a round trip per transaction, the busiest paths' largest share):
        # a pooled connection a restart closed fails its first statement, SQLAlchemy then drops every
        # connection as old, and storage.failures.retrying_collisions runs the work again on a new one.
        return create_async_engine(url, **kwargs)
    _ensure_sqlite_folder(url)
    if inline_writes:
        path = make_url(url).database or ""
        kwargs["async_creator"] = partial(connect_inline_while_writing, path, timeout=SQLITE_BUSY_TIMEOUT)
    engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT}, **kwargs)
    event.listen(engine.sync_engine, "connect", _configure_sqlite_connection)
    event.listen(engine.sync_engine, "begin", _begin_sqlite_transaction)
    return engine


def _ensure_sqlite_folder(url: str) -> None:
    path = url.split(":///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite_connection(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    # We issue BEGIN ourselves (below), so the driver must not open transactions on its own.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in (
        "PRAGMA journal_mode=WAL",
        # Each commit syncs the WAL: a reply answered 2xx, a send marked started, survive a power cut or
        # an OS crash too (NORMAL may roll the last commits back then). Webhooks' commits are grouped
        # (outreach.inbound.queue), one sync for many replies.
        "PRAGMA synchronous=FULL",
        "PRAGMA foreign_keys=ON",
        "PRAGMA busy_timeout=30000",
        # Deleted rows are overwritten, not left in free pages: an erasure leaves no trace in the file.
        "PRAGMA secure_delete=ON",
    ):
        cursor.execute(pragma)
    cursor.close()


def _begin_sqlite_transaction(connection: Connection) -> None:
    """SQLite ignores FOR UPDATE: writers take the write lock at BEGIN so that a read-then-write
    transaction (claiming outbox rows, advancing a conversation) cannot interleave with another
    process. Long read-only work (exports) asks for a DEFERRED transaction instead."""
    mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "IMMEDIATE")
    connection.exec_driver_sql(f"BEGIN {mode}")


def session_factory(engine: AsyncEngine, keyring: Keyring | None = None) -> SessionFactory:
    """Sessions that carry the keys of addresses (storage.address_keys): without a keyring, the public
    development keys."""
    info = {ADDRESS_KEYS: AddressKeys(keyring or development_keyring())}
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False, info=info)


@asynccontextmanager
async def read_session(factory: SessionFactory) -> AsyncIterator[AsyncSession]:
    """A session for reads that must not hold SQLite's write lock."""
    async with factory() as session:
        connection = await session.connection(execution_options={SQLITE_BEGIN_OPTION: "DEFERRED"})
        del connection
        yield session
