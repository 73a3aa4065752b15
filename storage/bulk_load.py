"""Sessions for a long bulk load (a city's register): on SQLite, every batch on one connection whose
page cache holds the indexes the load writes into, and whose WAL is checkpointed less often.

A register's pseudonyms and address indexes are random, so each batch writes into pages all over
their two unique indexes (~60 MB at 500,000 residents). With SQLite's default 2 MB cache every batch
read those pages back from the file, a commit wrote ~2,000 of them to the WAL and the checkpoint after
it wrote them again. Bare executemany of 500,000 such rows in batches of 2,000: 12.6 s of system time
with the defaults; 7.2 s with this cache (reads gone); with it and a WAL checkpointed every 10,000
pages, 5.5 GB written and 5.8 s; every 40,000 pages (a page rewritten by several batches written to
the file once), 4.5 GB and 4.5 s. Batches stay separate transactions (an import is as resumable as
before) and the journal stays WAL; a batch's commit does not sync (the service's other commits do,
storage.db); the connection gets back its settings when the load ends, before the pool has it again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker

from storage.db import SessionFactory

# Negative: KiB (SQLite's convention). The cache fills only as far as the load reads: 128 MiB holds the
# random indexes of ~1,000,000 residents, well inside an import's 400 MB.
BULK_CACHE_KIB = 128 * 1024
BULK_CHECKPOINT_PAGES = 40_000  # a WAL of up to ~160 MB before each checkpoint (the file keeps that size)
# A batch's commit does not wait for the disk (synchronous=NORMAL): a power cut may roll the last batches
# back, and the import, resumable, writes them again; the next commit that syncs (anyone's) syncs them.
BULK_SYNCHRONOUS_NORMAL = 1
BULK_PRAGMAS = {
    "cache_size": -BULK_CACHE_KIB,
    "wal_autocheckpoint": BULK_CHECKPOINT_PAGES,
    "synchronous": BULK_SYNCHRONOUS_NORMAL,
}


@asynccontextmanager
async def bulk_load_sessions(sessions: SessionFactory) -> AsyncIterator[SessionFactory]:
    """`sessions` for a bulk load: on SQLite bound to one connection with BULK_PRAGMAS; elsewhere as
    they are (PostgreSQL's buffers are the server's)."""
    engine = sessions.kw.get("bind")
    if not isinstance(engine, AsyncEngine) or engine.dialect.name != "sqlite":
        yield sessions
        return
    async with engine.connect() as connection:
        before = {name: await _pragma(connection, name) for name in BULK_PRAGMAS}
        for name, value in BULK_PRAGMAS.items():
            await _pragma(connection, name, value)
        try:
            yield async_sessionmaker(**{**sessions.kw, "bind": connection}, class_=sessions.class_)
        finally:
            if not connection.invalidated:
                for name, value in before.items():
                    await _pragma(connection, name, value)


async def _pragma(connection: AsyncConnection, name: str, value: int | None = None) -> int:
    """A connection setting, set first when `value` is given. On the driver's connection: through
    SQLAlchemy a statement would begin a transaction, and ours begin by taking the write lock."""
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None
    if value is not None:
        await (await driver.execute(f"PRAGMA {name} = {int(value)}")).close()
    cursor = await driver.execute(f"PRAGMA {name}")
    row = await cursor.fetchone()
    await cursor.close()
    return int(row[0])
