"""The audit log (table audit_log): an entry added in the caller's transaction, and entries read
back newest first, a page at a time, by action and time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.tables import AuditEntry


@dataclass(frozen=True)
class AuditFilter:
    """Which entries to read: all when every field is None."""

    action: str | None = None  # exactly this action, or every action under a prefix ending in "."
    since: datetime | None = None  # at or after
    until: datetime | None = None  # before


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(
        self,
        *,
        at: datetime,
        actor_kind: str,
        actor_id: str,
        actor_label: str,
        action: str,
        target_kind: str | None,
        target_id: str | None,
        details: dict[str, Any],
    ) -> AuditEntry:
        """Add an entry to the caller's transaction: it commits, or rolls back, with the action."""
        entry = AuditEntry(
            at=at,
            actor_kind=actor_kind,
            actor_id=actor_id,
            actor_label=actor_label,
            action=action,
            target_kind=target_kind,
            target_id=target_id,
            details=details,
        )
        self._session.add(entry)
        await self._session.flush()
        return entry

    async def page(self, which: AuditFilter, *, before_id: int | None, limit: int) -> list[AuditEntry]:
        """Up to `limit` entries, newest first, older than the entry `before_id` when given."""
        query = select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(limit)
        if before_id is not None:
            query = query.where(col(AuditEntry.id) < before_id)
        if which.action is not None:
            if which.action.endswith("."):
                query = query.where(col(AuditEntry.action).startswith(which.action, autoescape=True))
            else:
                query = query.where(col(AuditEntry.action) == which.action)
        if which.since is not None:
            query = query.where(col(AuditEntry.at) >= which.since)
        if which.until is not None:
            query = query.where(col(AuditEntry.at) < which.until)
        result = await self._session.execute(query)
        return list(result.scalars())
