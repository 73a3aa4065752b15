"""A campaign's SMS spend, reserved send by send (issue 18): taken from the budget when a send starts,
noted on its outbox row, given back when the send surely never left."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.tables import CampaignRecord, OutboxMessage

BUDGET_SLACK = 1e-9  # floating point's error on sums of prices, far below any currency's smallest unit


async def reserve(session: AsyncSession, campaign_id: int, amount: float, *, budget: float | None) -> bool:
    """Add `amount` to the campaign's spend only while it stays within `budget` (None: no budget);
    False when it would exceed it. One conditional UPDATE: on PostgreSQL a concurrent one waits for
    the row and checks the spend it committed, on SQLite writes are serial, so sends at once never
    overspend together."""
    statement = update(CampaignRecord).where(col(CampaignRecord.id) == campaign_id)
    if budget is not None:
        # A billionth of slack: 0.1 + 0.1 + 0.1 is a hair over 0.3 in floating point.
        statement = statement.where(col(CampaignRecord.spent) + amount <= budget + BUDGET_SLACK)
    result: CursorResult[Any] = await session.execute(  # type: ignore[assignment]
        statement.values(spent=CampaignRecord.spent + amount)
    )
    return int(result.rowcount) == 1


async def hold(session: AsyncSession, message_id: int, cost: float) -> None:
    """Note on the send's row what it reserved, for give_back."""
    await session.execute(update(OutboxMessage).where(col(OutboxMessage.id) == message_id).values(cost=cost))


async def give_back(session: AsyncSession, message_id: int) -> None:
    """The send surely never left: what it reserved goes back to its campaign's budget."""
    held = select(col(OutboxMessage.cost)).where(col(OutboxMessage.id) == message_id).scalar_subquery()
    campaign = (
        select(col(OutboxMessage.campaign_id))
        .where(col(OutboxMessage.id) == message_id)
        .where(col(OutboxMessage.cost).is_not(None))
        .scalar_subquery()
    )
    await session.execute(
        update(CampaignRecord).where(col(CampaignRecord.id) == campaign).values(spent=CampaignRecord.spent - held)
    )
    await session.execute(update(OutboxMessage).where(col(OutboxMessage.id) == message_id).values(cost=None))
