"""Set-based writes of many rows at once: COPY on PostgreSQL, one executemany INSERT on SQLite.

For the imports and launches that write hundreds of thousands of rows (the residents of a city, the
conversations and first questions of a campaign): a statement per row costs a round trip and a
flush each. The rows are plain dicts keyed by column name with the values the ORM would take (aware
datetimes, dicts for JSON); nothing conflicts or returns, so callers check for clashes first and run
the write in a savepoint, falling back to their row-by-row path when the database refuses a batch.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC
from typing import Any

import asyncpg
from sqlalchemy import JSON, Table, select, text
from sqlalchemy.engine import Dialect
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
        await _executemany(session, table, rows)
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


async def _executemany(session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """One INSERT run for every row by the driver, the values turned into what the column types bind
    (SQLAlchemy's own processors, each repeated time converted once): its generic executemany
    converts every value of every row through its machinery, which costs more than SQLite's insert."""
    columns = list(rows[0])
    bind_dialect = session.get_bind().dialect
    convert = [_memoised(table.c[name].type, bind_dialect) for name in columns]
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
    values = [tuple(to(row[name]) for to, name in zip(convert, columns, strict=True)) for row in rows]
    connection = await session.connection()
    await connection.exec_driver_sql(sql, values)


def _memoised(column_type: Any, bind_dialect: Dialect) -> Callable[[Any], Any]:
    processor = column_type.bind_processor(bind_dialect)
    if processor is None:
        return lambda value: value
    if isinstance(column_type, JSON):
        return _once_per_object(processor)
    if not isinstance(column_type, UtcDateTime):
        return processor  # type: ignore[no-any-return]
    seen: dict[Any, Any] = {}  # a launch's rows share a few moments: format each once

    def convert(value: Any) -> Any:
        if value not in seen:
            seen[value] = processor(value)
        return seen[value]

    return convert


def _once_per_object(processor: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """JSON serialised once per object: a launch page's conversations share their first state. Keyed by
    id(), which is safe while the rows (and so every value seen) are alive: for one insert_rows call."""
    seen: dict[int, Any] = {}

    def convert(value: Any) -> Any:
        key = id(value)
        if key not in seen:
            seen[key] = processor(value)
        return seen[key]

    return convert


def _copy_converter(table: Table, name: str) -> Any:
    """How a value goes to COPY: JSON as its text (the dialect's codec takes text), times as UTC."""
    column_type = table.c[name].type
    if isinstance(column_type, JSON):
        return _once_per_object(lambda value: None if value is None else json.dumps(value))
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


SQLITE_ANALYSIS_LIMIT = 400  # rows sampled per index: enough to tell a selective index from a broad one


class PlannerStatistics:
    """Keeps the planner's picture of tables a bulk load grows in step with it: ANALYZE them each time
    the rows written since the start have doubled (from `first`), a few times in all. Without it a
    load into a fresh table is planned on what the table held before: PostgreSQL kept the counts of
    the first batch and read contact_addresses, outbox and conversations by sequential scans for each
    batch's lookups; SQLite, with no statistics at all, read fatigue's asks through the outbox's
    status index, every queued message for each page. SQLite samples (analysis_limit), so each pass
    takes milliseconds."""

    def __init__(self, *tables: str, first: int = 4000) -> None:
        self._tables = tables
        self._written = 0
        self._next = first

    async def wrote(self, session: AsyncSession, rows: int) -> None:
        self._written += rows
        if self._written < self._next:
            return
        self._next = 2 * self._written
        if dialect.dialect_name(session) == "postgresql":
            await session.execute(text(f"ANALYZE {', '.join(self._tables)}"))
            return
        await session.execute(text(f"PRAGMA analysis_limit={SQLITE_ANALYSIS_LIMIT}"))
        for table in self._tables:
            await session.execute(text(f"ANALYZE {table}"))
