"""Inbound events: every message a resident sent, stored once per provider id."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage import dialect
from storage.tables import InboundEvent


class InboundRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def record_new(self, event: InboundEvent) -> int | None:
        """Insert the event; None when the provider already delivered it (a retry or a duplicate)."""
        statement = (
            dialect.insert(self._session, InboundEvent)
            .values(
                channel=event.channel,
                provider_id=event.provider_id,
                contact_id=event.contact_id,
                text=event.text,
                full_text=event.full_text,
                outcome=event.outcome,
                reason=event.reason,
                received_at=event.received_at,
            )
            .on_conflict_do_nothing(index_elements=["channel", "provider_id"])
            .returning(InboundEvent.id)
        )
        inserted: int | None = (await self._session.execute(statement)).scalar_one_or_none()
        return inserted

    async def set_outcome(self, event_id: int, outcome: str) -> None:
        await self._session.execute(
            update(InboundEvent).where(col(InboundEvent.id) == event_id).values(outcome=outcome)
        )
