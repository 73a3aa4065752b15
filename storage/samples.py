"""Sampled campaigns: the design a launch drew and the residents it drew (outreach.campaigns.sampling
draws them), and how often each resident was asked lately (fatigue, for every launch:
outreach.campaigns.fatigue)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.id_sets import among as among_ids
from storage.tables import CampaignSample, Conversation, OutboxMessage, SampledResident

# Messages that reached the resident or are on their way; a failed or cancelled one asked nobody.
_ASKING = ("queued", "held", "sending", "sent", "unknown")


@dataclass(frozen=True)
class DrawnResident:
    resident_id: int
    stratum: str
    inclusion_probability: float


@dataclass(frozen=True)
class StratumCounts:
    """A stratum of a campaign now (outreach.campaigns.reminders shares the reminders out by these)."""

    asked: int  # residents with a conversation that has asked (not waiting for its address)
    answered: int  # of them, those who replied
    remindable: int  # of them, still open with a reminder to come


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

    async def counts_by_stratum(self, campaign_id: int) -> dict[str, StratumCounts]:
        """Per stratum of the campaign's sample ("" for residents not drawn, as in an unsampled
        campaign): its conversations that asked, the replies, and those a reminder may still reach."""
        stratum = func.coalesce(col(SampledResident.stratum), "")
        remindable = case(
            (and_(col(Conversation.status) == "active", col(Conversation.next_reminder_at).is_not(None)), 1), else_=0
        )
        result = await self._session.execute(
            select(stratum, func.count(), func.count(col(Conversation.last_reply_at)), func.sum(remindable))
            .select_from(Conversation)
            .outerjoin(
                SampledResident,
                and_(
                    col(SampledResident.campaign_id) == col(Conversation.campaign_id),
                    col(SampledResident.resident_id) == col(Conversation.resident_id),
                ),
            )
            .where(col(Conversation.campaign_id) == campaign_id)
            .where(col(Conversation.status) != "waiting")
            .group_by(stratum)
        )
        return {row[0]: StratumCounts(int(row[1]), int(row[2]), int(row[3] or 0)) for row in result.all()}

    async def strata_of(self, campaign_id: int, resident_ids: Collection[int]) -> dict[int, str]:
        """The stratum each of `resident_ids` was drawn in ("" for one not drawn)."""
        result = await self._session.execute(
            select(col(SampledResident.resident_id), col(SampledResident.stratum))
            .where(col(SampledResident.campaign_id) == campaign_id)
            .where(col(SampledResident.resident_id).in_(list(resident_ids)))
        )
        drawn = {row[0]: row[1] for row in result.all()}
        return {resident_id: drawn.get(resident_id, "") for resident_id in resident_ids}

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
            asked = asked.where(among_ids(col(OutboxMessage.resident_id), among))
            waiting = waiting.where(among_ids(col(Conversation.resident_id), among))
        pairs = {(row[0], row[1]) for row in (await self._session.execute(asked)).all()}
        pairs |= {(row[0], row[1]) for row in (await self._session.execute(waiting)).all()}
        wanted = None if among is None else set(among)  # a range may have read a few more
        asks: dict[int, int] = {}
        for resident_id, _ in pairs:
            if resident_id is not None and (wanted is None or resident_id in wanted):
                asks[resident_id] = asks.get(resident_id, 0) + 1
        return asks
