"""Set-based writes of many rows at once: COPY on PostgreSQL, one executemany INSERT on SQLite.

For the imports and launches that write hundreds of thousands of rows (the residents of a city, the
conversations and first questions of a campaign): a statement per row costs a round trip and a
flush each. The rows are plain dicts keyed by column name with the values the ORM would take (aware
datetimes, dicts for JSON); nothing conflicts or returns, so callers check for clashes first and run
the write in a savepoint, falling back to their row-by-row path when the database refuses a batch.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Table, select, text
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from storage import dialect
from storage.types import UtcDateTime

if TYPE_CHECKING:
    import asyncpg


async def insert_rows(session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows` (all with the same keys) into `table` in the session's transaction. A refusal
    raises DBAPIError on either database (storage.failures reads its SQLSTATE)."""
    if not rows:
        return
    columns = list(rows[0])
    # itemgetter builds each tuple in C (a generator per row cost 1.5 µs of an import's ~100 per row).
    records = [(row[columns[0]],) for row in rows] if len(columns) == 1 else list(map(itemgetter(*columns), rows))
    await insert_records(session, table, columns, records)


async def insert_records(
    session: AsyncSession, table: Table, columns: Sequence[str], records: Sequence[tuple[Any, ...]]
) -> None:
    """As `insert_rows`, for rows given as tuples in the order of `columns` (a launch's half million
    rows: no dict per row). The values are converted a column at a time, each repeated moment and
    each shared JSON object once."""
    if not records:
        return
    if dialect.dialect_name(session) != "postgresql":
        bind_dialect = session.get_bind().dialect
        converters = [_memoised(table.c[name].type, bind_dialect) for name in columns]
        sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
        connection = await session.connection()
        await connection.exec_driver_sql(sql, _converted(records, converters))
        return
    converted = _converted(records, [_copy_converter(table, name) for name in columns])
    connection = await session.connection()
    # A statement through SQLAlchemy first: the driver's transaction is begun lazily, and COPY must
    # run inside it (and inside the caller's savepoint), never beside it.
    await connection.execute(text("SELECT 1"))
    raw = await connection.get_raw_connection()
    driver: asyncpg.Connection = raw.driver_connection
    # The driver's module by name, here where it is in use already: a command on SQLite never loads it.
    errors = importlib.import_module("asyncpg")
    try:
        await driver.copy_records_to_table(table.name, records=converted, columns=list(columns))
    except (errors.PostgresError, errors.InterfaceError) as error:
        # As SQLAlchemy raises the driver's errors, so callers tell refused data from an outage alike.
        raise DBAPIError(f"COPY {table.name}", None, error, hide_parameters=True) from error


Converter = Callable[[Any], Any] | None  # None: the value goes as it is


def _converted(records: Sequence[tuple[Any, ...]], converters: Sequence[Converter]) -> list[tuple[Any, ...]]:
    """The records with each column's values converted: column by column (a transpose in C, one
    list per converted column), cheaper than a generator over every value of every row."""
    if all(convert is None for convert in converters):
        return list(records)
    columns: list[Any] = list(zip(*records, strict=True))
    for index, convert in enumerate(converters):
        if convert is not None:
            columns[index] = list(map(convert, columns[index]))
    return list(zip(*columns, strict=True))


def _memoised(column_type: Any, bind_dialect: Dialect) -> Converter:
    """SQLAlchemy's bind processor of the column type for this dialect (what its executemany would
    apply): the dialect's own type's, since a TypeDecorator's generic impl may have none. SQLite's
    DATETIME writes text with microseconds, as the ORM's rows have it; the generic one left the moment
    to the driver's adapter, whose text drops ".000000" and sorts before the ORM's text of the same
    moment (and ran in the driver's thread for every value of every row)."""
    processor = column_type.dialect_impl(bind_dialect).bind_processor(bind_dialect)
    if processor is None:
        return None
    if isinstance(column_type, JSON):
        return _once_per_object(processor)
    if not isinstance(column_type, UtcDateTime):
        return processor  # type: ignore[no-any-return]
    return _Memo(processor).__getitem__  # a launch's rows share a few moments: format each once


class _Memo(dict[Any, Any]):
    """A function's results by argument, each computed once (a hit is a dict lookup in C)."""

    def __init__(self, function: Callable[[Any], Any]) -> None:
        super().__init__()
        self._function = function

    def __missing__(self, key: Any) -> Any:
        value = self[key] = self._function(key)
        return value


def _once_per_object(processor: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """JSON serialised once per object: a launch page's conversations share their first state. Keyed by
    id(), which is safe while the rows (and so every value seen) are alive: for one insert call."""
    seen: dict[int, Any] = {}

    def convert(value: Any) -> Any:
        key = id(value)
        if key not in seen:
            seen[key] = processor(value)
        return seen[key]

    return convert


def _copy_converter(table: Table, name: str) -> Converter:
    """How a value goes to COPY: JSON as its text (the dialect's codec takes text), times as UTC."""
    column_type = table.c[name].type
    if isinstance(column_type, JSON):
        return _once_per_object(lambda value: None if value is None else json.dumps(value))
    if isinstance(column_type, UtcDateTime):
        return _Memo(lambda value: None if value is None else value.astimezone(UTC)).__getitem__
    return None


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


class PlannerStatistics:
    """Keeps the planner's picture of tables a bulk load grows in step with it: ANALYZE them each time
    the rows written since the start have doubled (from `first`), a few times in all. Without it a
    load into a fresh table is planned on what the table held before: PostgreSQL kept the counts of
    the first batch and read contact_addresses, outbox and conversations by sequential scans for each
    batch's lookups; SQLite, with no statistics at all, read fatigue's asks through the outbox's
    status index, every queued message for each page. SQLite reads each index whole (0.2 s for
    500,000 addresses): a sampled ANALYZE (analysis_limit) took a channel, the first column of the
    addresses' unique index, to match ~400 rows of 500,000, and a launch then read them all per page."""

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
        for table in self._tables:
            await session.execute(text(f"ANALYZE {table}"))
