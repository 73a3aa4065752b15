"""Launch requests by campaign and by state: the one waiting, the approval of a version, the queue of
an approver."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.launch_request_tables import LaunchRequest
from storage.tables import CampaignRecord


class LaunchRequestRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, request: LaunchRequest) -> LaunchRequest:
        self._session.add(request)
        await self._session.flush()
        return request

    async def get(self, request_id: int) -> LaunchRequest | None:
        return await self._session.get(LaunchRequest, request_id)

    async def latest_of(self, campaign_id: int) -> LaunchRequest | None:
        result = await self._session.execute(
            select(LaunchRequest)
            .where(col(LaunchRequest.campaign_id) == campaign_id)
            .order_by(col(LaunchRequest.id).desc())
            .limit(1)
        )
        return result.scalar_one_or_none()

    async def of_campaign(self, campaign_id: int) -> list[LaunchRequest]:
        """Every request of the campaign, latest first (a campaign has a handful: one per ask)."""
        result = await self._session.execute(
            select(LaunchRequest)
            .where(col(LaunchRequest.campaign_id) == campaign_id)
            .order_by(col(LaunchRequest.id).desc())
        )
        return list(result.scalars())

    async def approved(self, campaign_id: int, version_hash: str) -> LaunchRequest | None:
        """An approval of this very version by someone other than its requester, if any."""
        result = await self._session.execute(
            select(LaunchRequest)
            .where(
                col(LaunchRequest.campaign_id) == campaign_id,
                col(LaunchRequest.version_hash) == version_hash,
                col(LaunchRequest.state) == "approved",
                col(LaunchRequest.decided_by) != col(LaunchRequest.requested_by),
            )
            .order_by(col(LaunchRequest.id).desc())
            .limit(1)
        )
        return result.scalar_one_or_none()

    async def withdraw_waiting(self, campaign_id: int) -> None:
        await self._session.execute(
            update(LaunchRequest)
            .where(col(LaunchRequest.campaign_id) == campaign_id, col(LaunchRequest.state) == "waiting")
            .values(state="withdrawn")
        )

    async def decide(self, request_id: int, state: str, *, by: int, at: datetime, comment: str | None) -> bool:
        """Approve or reject a waiting request; False when it was no longer waiting (decided by a racing
        request, or withdrawn): the update's own condition decides, not an earlier read."""
        result = await self._session.execute(
            update(LaunchRequest)
            .where(col(LaunchRequest.id) == request_id, col(LaunchRequest.state) == "waiting")
            .values(state=state, decided_by=by, decided_at=at, comment=comment)
        )
        return bool(getattr(result, "rowcount", 0))

    async def waiting(self) -> list[tuple[LaunchRequest, CampaignRecord]]:
        """Every waiting request with its campaign, oldest first."""
        result = await self._session.execute(
            select(LaunchRequest, CampaignRecord)
            .join(CampaignRecord, col(CampaignRecord.id) == col(LaunchRequest.campaign_id))
            .where(col(LaunchRequest.state) == "waiting")
            .order_by(col(LaunchRequest.id))
        )
        return [(row[0], row[1]) for row in result.all()]
