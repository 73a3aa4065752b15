"""Sampled campaigns: the design a launch drew and the residents it drew (outreach.campaigns.sampling
draws them), and how often each resident was asked lately (fatigue, for every launch:
outreach.campaigns.fatigue)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.tables import CampaignSample, Conversation, OutboxMessage, SampledResident

# Messages that reached the resident or are on their way; a failed or cancelled one asked nobody.
_ASKING = ("queued", "held", "sending", "sent", "unknown")


@dataclass(frozen=True)
class DrawnResident:
    resident_id: int
    stratum: str
    inclusion_probability: float


class SampleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def design(self, campaign_id: int) -> CampaignSample | None:
        return await self._session.get(CampaignSample, campaign_id)

    async def record(self, design: CampaignSample, drawn: Sequence[DrawnResident]) -> None:
        """The design and everyone drawn, in the caller's transaction (written once per campaign)."""
        self._session.add(design)
        await self._session.flush()
        rows = [
            {
                "campaign_id": design.campaign_id,
                "resident_id": resident.resident_id,
                "stratum": resident.stratum,
                "inclusion_probability": resident.inclusion_probability,
            }
            for resident in drawn
        ]
        for start in range(0, len(rows), 1000):
            await self._session.execute(insert(SampledResident), rows[start : start + 1000])

    async def drawn_among(self, campaign_id: int, resident_ids: Collection[int]) -> set[int]:
        result = await self._session.execute(
            select(col(SampledResident.resident_id))
            .where(col(SampledResident.campaign_id) == campaign_id)
            .where(col(SampledResident.resident_id).in_(list(resident_ids)))
        )
        return set(result.scalars())

    async def drawn(self, campaign_id: int) -> list[DrawnResident]:
        result = await self._session.execute(
            select(SampledResident)
            .where(col(SampledResident.campaign_id) == campaign_id)
            .order_by(col(SampledResident.resident_id))
        )
        return [DrawnResident(r.resident_id, r.stratum, r.inclusion_probability) for r in result.scalars()]

    async def asks_since(
        self, since: datetime, *, other_than: int | None = None, among: Collection[int] | None = None
    ) -> dict[int, int]:
        """Per resident (of `among`, or of all), how many campaigns (but `other_than`) sent them their
        first question since `since`, have it on its way, or hold a conversation waiting for their
        address (it asks as soon as the address is free): an ask is a campaign's first question,
        whatever follows."""
        first = func.min(func.coalesce(col(OutboxMessage.sent_at), col(OutboxMessage.created_at)))
        asked = (
            select(col(OutboxMessage.resident_id), col(OutboxMessage.campaign_id))
            .where(col(OutboxMessage.kind) == "question")
            .where(col(OutboxMessage.campaign_id).is_not(None))
            .where(col(OutboxMessage.status).in_(_ASKING))
            .group_by(col(OutboxMessage.resident_id), col(OutboxMessage.campaign_id))
            .having(first >= since)
        )
        waiting = select(col(Conversation.resident_id), col(Conversation.campaign_id)).where(
            col(Conversation.status) == "waiting"
        )
        if other_than is not None:
            asked = asked.where(col(OutboxMessage.campaign_id) != other_than)
            waiting = waiting.where(col(Conversation.campaign_id) != other_than)
        if among is not None:
            asked = asked.where(col(OutboxMessage.resident_id).in_(list(among)))
            waiting = waiting.where(col(Conversation.resident_id).in_(list(among)))
        pairs = {(row[0], row[1]) for row in (await self._session.execute(asked)).all()}
        pairs |= {(row[0], row[1]) for row in (await self._session.execute(waiting)).all()}
        asks: dict[int, int] = {}
        for resident_id, _ in pairs:
            if resident_id is not None:
                asks[resident_id] = asks.get(resident_id, 0) + 1
        return asks
