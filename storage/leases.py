"""Leases: one holder at a time per job, taken over when its holder stops renewing (it died)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage import dialect
from storage.tables import Lease


async def hold_lease(session: AsyncSession, name: str, *, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take or renew the lease; False while another holder's lease runs. One statement: atomic on
    both databases, so two workers asking at once cannot both win."""
    statement = dialect.insert(session, Lease).values(name=name, holder=holder, expires_at=now + ttl)
    statement = statement.on_conflict_do_update(
        index_elements=["name"],
        set_={"holder": holder, "expires_at": now + ttl},
        where=or_(col(Lease.holder) == holder, col(Lease.expires_at) <= now),
    ).returning(col(Lease.holder))
    won: str | None = (await session.execute(statement)).scalar_one_or_none()
    return won == holder


async def release_lease(session: AsyncSession, name: str, *, holder: str, now: datetime) -> None:
    lease = await session.get(Lease, name)
    if lease is not None and lease.holder == holder:
        lease.expires_at = now
        session.add(lease)
