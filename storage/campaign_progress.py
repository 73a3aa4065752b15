"""A campaign's messages and answers counted per channel, for `outreach campaign status` (and its
--watch, which reads them again every few seconds): two grouped queries on the campaign's indexes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, distinct, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.tables import OutboxMessage, Response


@dataclass(frozen=True)
class OutboxTally:
    channel: str
    status: str  # the outbox's: queued, held, sending, sent, failed, unknown, cancelled
    delivery_status: str | None  # the provider's later word on a sent message
    messages: int
    due: int  # of them, in flight or due by `now` (queued for later: quiet hours, a retry, a pause)


async def outbox_tally(session: AsyncSession, campaign_id: int, now: datetime) -> list[OutboxTally]:
    status = col(OutboxMessage.status)
    in_flight = or_(status == "sending", (status == "queued") & (col(OutboxMessage.next_attempt_at) <= now))
    statement = (
        select(
            col(OutboxMessage.channel),
            status,
            col(OutboxMessage.delivery_status),
            func.count(),
            func.sum(case((in_flight, 1), else_=0)),
        )
        .where(col(OutboxMessage.campaign_id) == campaign_id)
        .group_by(col(OutboxMessage.channel), status, col(OutboxMessage.delivery_status))
    )
    return [
        OutboxTally(channel, state, delivery, count, int(due or 0))
        for channel, state, delivery, count, due in (await session.execute(statement)).all()
    ]


async def answered_by_channel(session: AsyncSession, campaign_id: int) -> dict[str, int]:
    """Residents who answered at least one question, by the channel they answered on."""
    statement = (
        select(col(Response.channel), func.count(distinct(col(Response.resident_id))))
        .where(col(Response.campaign_id) == campaign_id, col(Response.value).is_not(None))
        .group_by(col(Response.channel))
    )
    return {channel: count for channel, count in (await session.execute(statement)).all()}
