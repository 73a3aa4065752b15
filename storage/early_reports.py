"""Delivery reports that came before the send they report on was recorded (a provider's callback can
beat our commit): kept per channel, since a provider id is unique only within its provider, until the
send is recorded; bounded and expiring, so reports for sends we never make cannot pile up."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.tables import EarlyDeliveryReport


class EarlyReportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def keep(
        self,
        channel: str,
        provider_id: str,
        *,
        status: str,
        error_code: str | None,
        now: datetime,
        rank: Callable[[str | None], int],
        keep_for: timedelta,
        cap: int,
    ) -> None:
        """Park a report for a send of `channel` not recorded yet; of several, the furthest status is
        kept. The channel's reports older than `keep_for` go first, and the oldest beyond `cap`: a
        report for a send we never make (or anyone's invention) cannot pile up."""
        await self._session.execute(
            delete(EarlyDeliveryReport)
            .where(col(EarlyDeliveryReport.channel) == channel)
            .where(col(EarlyDeliveryReport.received_at) < now - keep_for)
        )
        early = await self._session.get(EarlyDeliveryReport, (channel, provider_id), with_for_update=True)
        if early is None:
            self._session.add(
                EarlyDeliveryReport(
                    channel=channel, provider_id=provider_id, status=status, error_code=error_code, received_at=now
                )
            )
            await self._session.flush()
            await self._drop_beyond(channel, cap)
        elif rank(status) > rank(early.status):
            early.status, early.error_code = status, error_code or early.error_code
            self._session.add(early)
        await self._session.flush()

    async def _drop_beyond(self, channel: str, cap: int) -> None:
        """Drop the channel's oldest early reports beyond the newest `cap`."""
        beyond = (
            select(col(EarlyDeliveryReport.channel), col(EarlyDeliveryReport.provider_id))
            .where(col(EarlyDeliveryReport.channel) == channel)
            .order_by(col(EarlyDeliveryReport.received_at).desc(), col(EarlyDeliveryReport.provider_id).desc())
            .offset(cap)
        )
        oldest = (await self._session.execute(beyond)).all()
        if oldest:
            key = tuple_(col(EarlyDeliveryReport.channel), col(EarlyDeliveryReport.provider_id))
            await self._session.execute(delete(EarlyDeliveryReport).where(key.in_([tuple(row) for row in oldest])))

    async def take(
        self, channel: str, provider_id: str, *, now: datetime, keep_for: timedelta
    ) -> EarlyDeliveryReport | None:
        """The report kept for this send, taken away; None when there is none or it has expired."""
        early = await self._session.get(EarlyDeliveryReport, (channel, provider_id), with_for_update=True)
        if early is None:
            return None
        await self._session.delete(early)
        await self._session.flush()
        return early if early.received_at >= now - keep_for else None
