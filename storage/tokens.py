"""API tokens: only their sha256 is stored; a token is found by its hash."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.tables import ApiToken


class TokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, token: ApiToken) -> ApiToken:
        self._session.add(token)
        await self._session.flush()
        return token

    async def by_hash(self, token_hash: str) -> ApiToken | None:
        result = await self._session.execute(select(ApiToken).where(col(ApiToken.token_hash) == token_hash))
        token: ApiToken | None = result.scalar_one_or_none()
        return token

    async def get(self, token_id: int) -> ApiToken | None:
        return await self._session.get(ApiToken, token_id)

    async def all(self) -> list[ApiToken]:
        result = await self._session.execute(select(ApiToken).order_by(col(ApiToken.id)))
        return list(result.scalars())

    async def revoke(self, token_id: int, *, now: datetime) -> bool:
        """Revoke a live token; False when there is none by that id (or it was revoked already)."""
        result = await self._session.execute(
            update(ApiToken)
            .where(col(ApiToken.id) == token_id)
            .where(col(ApiToken.revoked_at).is_(None))
            .values(revoked_at=now)
            .returning(col(ApiToken.id))
        )
        return result.scalar_one_or_none() is not None

    async def touch(self, token_id: int, *, now: datetime) -> None:
        await self._session.execute(update(ApiToken).where(col(ApiToken.id) == token_id).values(last_used_at=now))
