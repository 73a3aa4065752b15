"""Officials and their sessions: found by e-mail, by a password link's hash, by a session's hash."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.official_tables import Official, OfficialSession
from storage.tables import AuditEntry


class OfficialRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, official: Official) -> Official:
        self._session.add(official)
        await self._session.flush()
        return official

    async def by_email(self, email: str) -> Official | None:
        result = await self._session.execute(select(Official).where(col(Official.email) == email))
        return result.scalar_one_or_none()

    async def by_password_link(self, link_hash: str) -> Official | None:
        result = await self._session.execute(select(Official).where(col(Official.password_link_hash) == link_hash))
        return result.scalar_one_or_none()

    async def get(self, official_id: int) -> Official | None:
        return await self._session.get(Official, official_id)

    async def all(self) -> list[Official]:
        result = await self._session.execute(select(Official).order_by(col(Official.id)))
        return list(result.scalars())

    async def active_admins(self) -> list[Official]:
        """The active admins, their rows locked until the transaction ends (PostgreSQL; SQLite's write
        transactions are one at a time already), so that two admins demoting each other at once
        cannot both succeed: the second reads what the first left."""
        result = await self._session.execute(
            select(Official)
            .where(col(Official.role) == "admin", col(Official.deactivated_at).is_(None))
            .order_by(col(Official.id))
            .with_for_update()
        )
        return list(result.scalars())

    async def last_audited(self, action: str) -> dict[str, datetime]:
        """When `action` (an audit action on an official, such as a login) last happened, by account id."""
        result = await self._session.execute(
            select(col(AuditEntry.target_id), func.max(col(AuditEntry.at)))
            .where(col(AuditEntry.action) == action, col(AuditEntry.target_kind) == "official")
            .group_by(col(AuditEntry.target_id))
        )
        return {target: at for target, at in result.all() if target is not None}

    # --- sessions ---------------------------------------------------------------------------------

    async def open_session(self, session: OfficialSession) -> None:
        self._session.add(session)
        await self._session.flush()

    async def session_with_official(self, token_hash: str) -> tuple[OfficialSession, Official] | None:
        result = await self._session.execute(
            select(OfficialSession, Official)
            .join(Official, col(Official.id) == col(OfficialSession.official_id))
            .where(col(OfficialSession.token_hash) == token_hash)
        )
        row = result.one_or_none()
        return None if row is None else (row[0], row[1])

    async def touch_session(self, token_hash: str, *, now: datetime) -> None:
        await self._session.execute(
            update(OfficialSession).where(col(OfficialSession.token_hash) == token_hash).values(last_seen_at=now)
        )

    async def close_session(self, token_hash: str) -> None:
        await self._session.execute(delete(OfficialSession).where(col(OfficialSession.token_hash) == token_hash))

    async def close_sessions_of(self, official_id: int) -> int:
        result = await self._session.execute(
            delete(OfficialSession).where(col(OfficialSession.official_id) == official_id)
        )
        return int(getattr(result, "rowcount", 0) or 0)
