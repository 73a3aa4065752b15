"""Set-based writes of many rows at once: COPY on PostgreSQL, one executemany INSERT on SQLite.

For the imports and launches that write hundreds of thousands of rows (the residents of a city, the
conversations and first questions of a campaign): a statement per row costs a round trip and a
flush each. The rows are plain dicts keyed by column name with the values the ORM would take (aware
datetimes, dicts for JSON); nothing conflicts or returns, so callers check for clashes first and run
the write in a savepoint, falling back to their row-by-row path when the database refuses a batch.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC
from typing import Any

import asyncpg
from sqlalchemy import JSON, Table, insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from storage import dialect
from storage.types import UtcDateTime


async def insert_rows(session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows` (all with the same keys) into `table` in the session's transaction. A refusal
    raises DBAPIError on either database (storage.failures reads its SQLSTATE)."""
    if not rows:
        return
    if dialect.dialect_name(session) != "postgresql":
        await session.execute(insert(table), list(rows))
        return
    columns = list(rows[0])
    convert = [_copy_converter(table, name) for name in columns]
    records = [tuple(to(row[name]) for to, name in zip(convert, columns, strict=True)) for row in rows]
    connection = await session.connection()
    # A statement through SQLAlchemy first: the driver's transaction is begun lazily, and COPY must
    # run inside it (and inside the caller's savepoint), never beside it.
    await connection.execute(text("SELECT 1"))
    raw = await connection.get_raw_connection()
    driver: asyncpg.Connection = raw.driver_connection
    try:
        await driver.copy_records_to_table(table.name, records=records, columns=columns)
    except (asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        # As SQLAlchemy raises the driver's errors, so callers tell refused data from an outage alike.
        raise DBAPIError(f"COPY {table.name}", None, error, hide_parameters=True) from error


def _copy_converter(table: Table, name: str) -> Any:
    """How a value goes to COPY: JSON as its text (the dialect's codec takes text), times as UTC."""
    column_type = table.c[name].type
    if isinstance(column_type, JSON):
        return lambda value: None if value is None else json.dumps(value)
    if isinstance(column_type, UtcDateTime):
        return lambda value: None if value is None else value.astimezone(UTC)
    return lambda value: value


async def next_ids(session: AsyncSession, table: Table, count: int) -> list[int]:
    """`count` fresh primary keys for rows the caller inserts with their ids (so it can refer to them
    in other rows of the same batch without reading them back). PostgreSQL takes them from the
    table's sequence; SQLite goes on from the largest id, which is safe because its writing
    transactions hold the database's write lock from BEGIN (storage.db)."""
    if count <= 0:
        return []
    if dialect.dialect_name(session) == "postgresql":
        result = await session.execute(
            text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :count)"),
            {"table": table.name, "count": count},
        )
        return [int(value) for value in result.scalars()]
    largest = (await session.execute(select(table.c.id).order_by(table.c.id.desc()).limit(1))).scalar()
    start = int(largest or 0) + 1
    return list(range(start, start + count))
