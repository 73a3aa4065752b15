"""Idempotency keys of API requests (table idempotent_requests): a key claimed by one request at a
time, the answer it gave kept for replay, keys gone once expired."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.dialect import insert
from storage.tables import IdempotentRequest


class IdempotencyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim(
        self, token_id: int, key: str, fingerprint: str, *, now: datetime, expires_at: datetime, stale_before: datetime
    ) -> IdempotentRequest | None:
        """Claim the key for a request about to run: None when claimed, else the request that holds
        it. An expired key, or a claim still running since before `stale_before` (its process died),
        is given up first."""
        await self._session.execute(
            delete(IdempotentRequest)
            .where(col(IdempotentRequest.token_id) == token_id, col(IdempotentRequest.key) == key)
            .where(
                or_(
                    col(IdempotentRequest.expires_at) <= now,
                    (col(IdempotentRequest.status).is_(None)) & (col(IdempotentRequest.created_at) < stale_before),
                )
            )
        )
        inserted = await self._session.execute(
            insert(self._session, IdempotentRequest)
            .values(
                token_id=token_id,
                key=key,
                fingerprint=fingerprint,
                created_at=now,
                expires_at=expires_at,
            )
            .on_conflict_do_nothing(index_elements=["token_id", "key"])
            .returning(col(IdempotentRequest.id))
        )
        if inserted.scalar_one_or_none() is not None:
            return None
        held = await self._session.execute(
            select(IdempotentRequest).where(
                col(IdempotentRequest.token_id) == token_id, col(IdempotentRequest.key) == key
            )
        )
        return held.scalar_one()

    async def complete(self, token_id: int, key: str, *, status: int, body: str) -> None:
        await self._session.execute(
            update(IdempotentRequest)
            .where(col(IdempotentRequest.token_id) == token_id, col(IdempotentRequest.key) == key)
            .values(status=status, body=body)
        )

    async def release(self, token_id: int, key: str) -> None:
        """Give a claim up (the request failed on our side): a retry runs afresh."""
        await self._session.execute(
            delete(IdempotentRequest).where(
                col(IdempotentRequest.token_id) == token_id,
                col(IdempotentRequest.key) == key,
                col(IdempotentRequest.status).is_(None),
            )
        )

    async def purge_expired(self, *, now: datetime, limit: int) -> int:
        """Delete up to `limit` expired keys (a bounded batch, taken along by each claim)."""
        due = select(col(IdempotentRequest.id)).where(col(IdempotentRequest.expires_at) <= now).limit(limit)
        result = await self._session.execute(delete(IdempotentRequest).where(col(IdempotentRequest.id).in_(due)))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
