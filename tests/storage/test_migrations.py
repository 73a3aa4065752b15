"""The alembic migrations build exactly the schema the models describe, on each database."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from storage.db import create_engine
from storage.migrate import upgrade


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, SQLModel.metadata))


async def test_upgrade_creates_the_model_schema_on_sqlite(tmp_path: object) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/migrated.db")
    try:
        await upgrade(engine)
        await upgrade(engine)  # a second upgrade is a no-op, not an error
        async with engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
            tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        assert {"residents", "contact_addresses", "outbox", "inbound_events", "responses"} <= tables
    finally:
        await engine.dispose()


async def test_postgres_test_database_was_built_by_the_migrations(postgres_url: str | None) -> None:
    from tests.conftest import unavailable

    if postgres_url is None:
        unavailable("PostgreSQL is unreachable")
    assert postgres_url is not None
    engine = create_engine(postgres_url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
    finally:
        await engine.dispose()
