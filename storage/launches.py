"""A launch's progress through its audience: the campaign's launch state and cursor, and the
residents it had to skip (outreach.campaigns.launches opens the conversations)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage import dialect
from storage.id_sets import among
from storage.tables import CampaignRecord, LaunchSkip, Resident

OPENING = "opening"  # some of the audience may have neither a conversation nor a recorded skip yet
OPENED = "opened"  # everyone the launch went past has one or the other


@dataclass(frozen=True)
class SkippedResident:
    resident: str  # the resident's pseudonym, never an address
    reason: str
    skipped_at: datetime


class LaunchRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def begin(self, campaign_id: int) -> None:
        """Open the audience from its start (a first launch, or a launch run again to ask those added
        since); a launch still opening goes on from where it stopped instead. One conditional UPDATE, so
        two workers starting the same campaign cannot send its cursor back."""
        await self._session.execute(
            update(CampaignRecord)
            .where(col(CampaignRecord.id) == campaign_id)
            .where(or_(col(CampaignRecord.launch_state).is_(None), col(CampaignRecord.launch_state) != OPENING))
            .values(launch_state=OPENING, launch_cursor=0, launch_held_back=0)
        )

    async def advance(self, campaign_id: int, *, cursor: int | None, held_back: int = 0) -> None:
        """Everyone up to `cursor` (a resident id) has been gone past; None: the whole audience.
        `held_back`: residents of the page fatigue held back, added to the pass's count."""
        values: dict[str, Any] = {"launch_state": OPENED} if cursor is None else {"launch_cursor": cursor}
        if held_back:
            values["launch_held_back"] = col(CampaignRecord.launch_held_back) + held_back
        await self._session.execute(update(CampaignRecord).where(col(CampaignRecord.id) == campaign_id).values(values))

    async def opening(self) -> list[int]:
        """Campaigns whose launch has not gone through their audience yet, among those still running."""
        result = await self._session.execute(
            select(col(CampaignRecord.id))
            .where(col(CampaignRecord.launch_state) == OPENING)
            .where(col(CampaignRecord.status).in_(("active", "paused")))
            .order_by(col(CampaignRecord.id))
        )
        return [campaign_id for campaign_id in result.scalars() if campaign_id is not None]

    async def skip(self, campaign_id: int, resident_id: int, *, reason: str, now: datetime) -> None:
        statement = dialect.insert(self._session, LaunchSkip).values(
            campaign_id=campaign_id, resident_id=resident_id, reason=reason[:200], skipped_at=now
        )
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=["campaign_id", "resident_id"], set_={"reason": reason[:200], "skipped_at": now}
            )
        )

    async def skipped_among(self, campaign_id: int, resident_ids: Collection[int]) -> set[int]:
        result = await self._session.execute(
            select(col(LaunchSkip.resident_id))
            .where(col(LaunchSkip.campaign_id) == campaign_id)
            .where(among(col(LaunchSkip.resident_id), resident_ids))
        )
        return set(result.scalars()).intersection(resident_ids)

    async def unskip(self, campaign_id: int, resident_ids: Collection[int]) -> None:
        """Residents skipped before now have a conversation (their data was put right)."""
        if not resident_ids:
            return
        await self._session.execute(
            delete(LaunchSkip)
            .where(col(LaunchSkip.campaign_id) == campaign_id)
            .where(col(LaunchSkip.resident_id).in_(list(resident_ids)))
        )

    async def count_skipped(self, campaign_id: int) -> int:
        result = await self._session.execute(
            select(func.count()).select_from(LaunchSkip).where(col(LaunchSkip.campaign_id) == campaign_id)
        )
        return int(result.scalar_one())

    async def skipped(self, campaign_id: int, *, limit: int) -> list[SkippedResident]:
        result = await self._session.execute(
            select(col(Resident.pseudonym), col(LaunchSkip.reason), col(LaunchSkip.skipped_at))
            .join(Resident, col(Resident.id) == col(LaunchSkip.resident_id))
            .where(col(LaunchSkip.campaign_id) == campaign_id)
            .order_by(col(LaunchSkip.resident_id))
            .limit(limit)
        )
        return [SkippedResident(pseudonym, reason, at) for pseudonym, reason, at in result.all()]
