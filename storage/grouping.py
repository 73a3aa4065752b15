"""What the grouped reads of results (storage.read_models, storage.weighting_cells) need to know of
each database: answers are counted per group in SQL, a million of them coming back as a few rows."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import ColumnElement, Text, cast, text, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped

from storage.dialect import dialect_name

GROUPING_WORK_MEM = "32MB"  # PostgreSQL: room to hash a few thousand groups (see prepare_grouping)


async def prepare_grouping(session: AsyncSession) -> None:
    """Settings for grouped reads, for the session's transaction. PostgreSQL guesses that each answer
    could be a group of its own and, within the default work_mem, sorts a million answers on disk
    where a hash of a few thousand groups fits in memory; its JIT compiles these statements for longer
    than they then run. SQLite needs nothing (storage.tables.RESULTS_INDEX hands it answers in order)."""
    if dialect_name(session) == "postgresql":
        await session.execute(text(f"SET LOCAL work_mem = '{GROUPING_WORK_MEM}'"))
        await session.execute(text("SET LOCAL jit = off"))


def as_text(session: AsyncSession, column: ColumnElement[Any] | Mapped[Any]) -> ColumnElement[Any]:
    """A JSON column grouped as its text. SQLite stores it as text already: no CAST there, which would
    hide the column from the results index and cost a conversion per answer."""
    if dialect_name(session) == "sqlite":
        return type_coerce(column, Text)
    return cast(column, Text)


def json_text(stored: Any) -> str:
    """A JSON column's text as `as_text` reads it. SQLite gives the column numeric affinity, so a number
    comes back as a number."""
    return stored if isinstance(stored, str) else json.dumps(stored)
