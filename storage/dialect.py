"""The few statements whose SQL differs between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def dialect_name(session: AsyncSession) -> str:
    bind = session.get_bind()
    return bind.dialect.name


def insert(session: AsyncSession, table: Any) -> Any:
    """An INSERT that supports ON CONFLICT DO NOTHING on either database."""
    if dialect_name(session) == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
