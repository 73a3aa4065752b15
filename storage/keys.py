"""Installation keys: made at random on first use, then the same for the life of the database."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage import dialect
from storage.tables import ServiceKey


async def installation_key(session: AsyncSession, name: str, *, now: datetime) -> str:
    """The key called `name`; two processes asking at once get the same one (insert-if-absent)."""
    await session.execute(
        dialect.insert(session, ServiceKey)
        .values(name=name, value=secrets.token_hex(32), created_at=now)
        .on_conflict_do_nothing(index_elements=["name"])
    )
    key = await session.get_one(ServiceKey, name)
    return key.value


async def read_key(session: AsyncSession, name: str) -> str | None:
    key = await session.get(ServiceKey, name)
    return key.value if key else None


async def write_key(session: AsyncSession, name: str, value: str, *, now: datetime) -> None:
    statement = dialect.insert(session, ServiceKey).values(name=name, value=value, created_at=now)
    await session.execute(statement.on_conflict_do_update(index_elements=["name"], set_={"value": value}))
