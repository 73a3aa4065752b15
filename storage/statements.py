"""Statements of the busy paths built once and run on the session's connection.

Building a statement (`insert(...).values(...)`, `col(...) == value`) costs more Python than running
it: the inbound path ran each several times per reply (issue 18's profile: 0.5-0.9 s per insert site
under load). A statement built once, with bound parameters, is also compiled once (SQLAlchemy's cache
finds it by the same object). `run` executes one on the session's own connection, in its transaction,
without the ORM's bookkeeping: for writes whose rows no ORM object in the session mirrors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from sqlalchemy import BindParameter, Table, bindparam
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Executable

from storage.dialect import dialect_name

S = TypeVar("S", bound=Executable)


def bound(table: Table, column: str) -> BindParameter[Any]:
    """A parameter named and typed as `table`'s column (JSON columns need their type to encode)."""
    return bindparam(column, type_=table.c[column].type)


def per_dialect(build: Callable[[str], S]) -> Callable[[AsyncSession], S]:
    """`build(dialect name)` once per dialect; the statement for a session's dialect after that."""
    built: dict[str, S] = {}

    def statement(session: AsyncSession) -> S:
        name = dialect_name(session)
        if name not in built:
            built[name] = build(name)
        return built[name]

    return statement


async def run(session: AsyncSession, statement: Executable, parameters: Mapping[str, Any]) -> CursorResult[Any]:
    """`statement` on the session's connection, in its transaction. Objects the session holds unwritten
    are flushed first, as the ORM's own execute would (a row may refer to them); no ORM sync after."""
    if session.new or session.dirty or session.deleted:
        await session.flush()
    connection = await session.connection()
    result: CursorResult[Any] = await connection.execute(statement, dict(parameters))
    return result
