"""A bulk load's sessions: on SQLite one connection with a large page cache and rarer checkpoints for
as long as the load runs, given back with its own settings; on PostgreSQL the sessions as they are."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from outreach.bootstrap import Services
from storage import dialect
from storage.bulk_load import BULK_PRAGMAS, bulk_load_sessions


async def connection_settings(session: AsyncSession) -> dict[str, int]:
    return {name: int((await session.execute(text(f"PRAGMA {name}"))).scalar_one()) for name in BULK_PRAGMAS}


async def test_a_bulk_loads_batches_share_one_tuned_connection_given_back_as_it_was(services: Services) -> None:
    async with services.sessions() as session:
        if dialect.dialect_name(session) == "postgresql":
            async with bulk_load_sessions(services.sessions) as load_sessions:
                assert load_sessions is services.sessions
            return
        before = await connection_settings(session)
    assert before != BULK_PRAGMAS
    async with bulk_load_sessions(services.sessions) as load_sessions:
        seen = []
        for _ in range(2):  # two batches, each its own transaction
            async with load_sessions() as session, session.begin():
                assert await connection_settings(session) == BULK_PRAGMAS
                raw = await (await session.connection()).get_raw_connection()
                seen.append(raw.driver_connection)
        assert seen[0] is seen[1]
        async with services.sessions() as session:  # another connection of the pool: untouched
            assert await connection_settings(session) == before
    load_connection = seen[0]
    assert load_connection is not None
    given_back = {}  # the load's connection, asked directly: it is back in the pool, with its own settings
    for name in BULK_PRAGMAS:
        async with load_connection.execute(f"PRAGMA {name}") as cursor:
            given_back[name] = (await cursor.fetchone())[0]
    assert given_back == before
