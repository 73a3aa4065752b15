"""The few statements whose SQL differs between SQLite and PostgreSQL.

Each dialect's module is imported when a statement for it is first made (then Python keeps it):
a process on SQLite never loads PostgreSQL's (about 30 ms of a command's start-up, issue 18)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, any_, bindparam
from sqlalchemy.ext.asyncio import AsyncSession


def dialect_name(session: AsyncSession) -> str:
    bind = session.get_bind()
    return bind.dialect.name


def insert(session: AsyncSession, table: Any) -> Any:
    """An INSERT that supports ON CONFLICT DO NOTHING on either database."""
    return insert_for(dialect_name(session), table)


def insert_for(name: str, table: Any) -> Any:
    """`insert` for the dialect called `name`."""
    if name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table)


def one_of(session: AsyncSession, column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """`column IN values`. On PostgreSQL as `= ANY($1)`, one array parameter: SQLAlchemy renders an IN
    of a batch's 2,000 values as 2,000 parameters on every execution (6% of an import, issue 18)."""
    condition: ColumnElement[bool]
    if dialect_name(session) == "postgresql":
        from sqlalchemy.dialects import postgresql

        condition = column == any_(bindparam(None, list(values), type_=postgresql.ARRAY(column.type)))
    else:
        condition = column.in_(values)
    return condition
