"""Campaigns and the conversations they hold with residents."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage import dialect
from storage.tables import CampaignRecord, Conversation


class CampaignRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, record: CampaignRecord) -> CampaignRecord:
        self._session.add(record)
        await self._session.flush()
        return record

    async def by_reference(self, reference: str) -> CampaignRecord | None:
        """A campaign by numeric id or by slug, as officials type it on the command line."""
        if reference.isdigit():
            return await self._session.get(CampaignRecord, int(reference))
        result = await self._session.execute(
            select(CampaignRecord).where(col(CampaignRecord.slug) == reference)
        )
        record: CampaignRecord | None = result.scalar_one_or_none()
        return record

    async def get(self, campaign_id: int) -> CampaignRecord:
        return await self._session.get_one(CampaignRecord, campaign_id)

    async def slug_taken(self, slug: str) -> bool:
        return await self.by_reference(slug) is not None

    async def all(self) -> list[CampaignRecord]:
        result = await self._session.execute(select(CampaignRecord).order_by(col(CampaignRecord.id)))
        return list(result.scalars())


class ConversationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def start_once(
        self,
        *,
        campaign_id: int,
        resident_id: int,
        contact_id: int,
        state: dict[str, Any],
        now: datetime,
    ) -> int | None:
        """Open the conversation; None when this resident already has one in this campaign."""
        statement = (
            dialect.insert(self._session, Conversation)
            .values(
                campaign_id=campaign_id,
                resident_id=resident_id,
                contact_id=contact_id,
                state=state,
                status="active",
                started_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["campaign_id", "resident_id"])
            .returning(Conversation.id)
        )
        inserted: int | None = (await self._session.execute(statement)).scalar_one_or_none()
        return inserted

    async def active_for_contact(self, contact_id: int) -> Conversation | None:
        """The open conversation on this address, locked until the transaction ends (PostgreSQL;
        SQLite's transactions are already serialised)."""
        result = await self._session.execute(
            select(Conversation)
            .where(col(Conversation.contact_id) == contact_id)
            .where(col(Conversation.status) == "active")
            .order_by(col(Conversation.started_at))
            .limit(1)
            .with_for_update()
        )
        conversation: Conversation | None = result.scalar_one_or_none()
        return conversation

    async def save_state(
        self, conversation: Conversation, *, state: dict[str, Any], status: str, now: datetime
    ) -> None:
        conversation.state = state
        conversation.status = status
        conversation.updated_at = now
        self._session.add(conversation)
        await self._session.flush()

    async def stop_all_for_resident(self, resident_id: int, *, now: datetime) -> int:
        result: CursorResult[Any] = await self._session.execute(  # type: ignore[assignment]
            update(Conversation)
            .where(col(Conversation.resident_id) == resident_id)
            .where(col(Conversation.status) == "active")
            .values(status="stopped", updated_at=now)
        )
        return int(result.rowcount)

    async def count_by_status(self, campaign_id: int) -> dict[str, int]:
        result = await self._session.execute(
            select(col(Conversation.status), func.count())
            .where(col(Conversation.campaign_id) == campaign_id)
            .group_by(Conversation.status)
        )
        return {status: count for status, count in result.all()}
