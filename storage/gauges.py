"""What /metrics reads from the database at each scrape: figures every worker shares (the outbox's
depth, each launch's progress), so any worker that is scraped reports the same, current values.

Each is one grouped query on an index: the outbox's by (status, channel), the launch's by campaign
(and, while a launch opens, a count of the residents past its cursor: a range of the primary key)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.launches import OPENING
from storage.tables import CampaignRecord, Conversation, LaunchSkip, OutboxMessage, Resident

# The outbox rows still to be settled. Sent, failed and cancelled rows are history (the send and
# error counters count those as they happen); counting them would read the whole table each scrape.
PENDING_STATUSES = ("queued", "held", "sending", "unknown")
# Campaigns whose launch is shown: the ones that may still open conversations or send.
LIVE_CAMPAIGNS = ("scheduled", "active", "paused")


@dataclass(frozen=True)
class OutboxDepth:
    channel: str
    status: str
    messages: int


@dataclass(frozen=True)
class DueMessages:
    channel: str
    messages: int  # queued and due by now
    oldest: datetime | None  # the longest-waiting one's due time


@dataclass(frozen=True)
class LaunchFigures:
    campaign: str  # the slug: a name officials chose, never a resident's
    opening: bool  # the launch is still going through the audience
    opened: int  # conversations the launch opened
    skipped: int  # residents it had to skip
    # Residents of the register past the launch's cursor (its audience is those of them it selects):
    # the rest of its way, so opened / (opened + skipped + to_go) is how far it has come. 0 once opened.
    to_go: int = 0


async def outbox_depth(session: AsyncSession) -> list[OutboxDepth]:
    statement = (
        select(col(OutboxMessage.channel), col(OutboxMessage.status), func.count())
        .where(col(OutboxMessage.status).in_(PENDING_STATUSES))
        .group_by(col(OutboxMessage.status), col(OutboxMessage.channel))
    )
    return [OutboxDepth(channel, status, count) for channel, status, count in (await session.execute(statement)).all()]


async def due_messages(session: AsyncSession, now: datetime) -> list[DueMessages]:
    statement = (
        select(col(OutboxMessage.channel), func.count(), func.min(col(OutboxMessage.next_attempt_at)))
        .where(col(OutboxMessage.status) == "queued", col(OutboxMessage.next_attempt_at) <= now)
        .group_by(col(OutboxMessage.channel))
    )
    rows = (await session.execute(statement)).all()
    return [DueMessages(channel, count, oldest) for channel, count, oldest in rows]


async def launch_figures(session: AsyncSession) -> list[LaunchFigures]:
    campaigns = (
        await session.execute(
            select(
                col(CampaignRecord.id),
                col(CampaignRecord.slug),
                col(CampaignRecord.launch_state),
                col(CampaignRecord.launch_cursor),
            )
            .where(col(CampaignRecord.status).in_(LIVE_CAMPAIGNS))
            .where(col(CampaignRecord.launch_state).is_not(None))
        )
    ).all()
    if not campaigns:
        return []
    live = [(int(campaign_id or 0), slug, state, cursor) for campaign_id, slug, state, cursor in campaigns]
    ids = [campaign_id for campaign_id, _, _, _ in live]
    opened = await _count_by_campaign(session, Conversation, ids)
    skipped = await _count_by_campaign(session, LaunchSkip, ids)
    return [
        LaunchFigures(
            slug,
            state == OPENING,
            opened.get(campaign_id, 0),
            skipped.get(campaign_id, 0),
            await _register_past(session, cursor) if state == OPENING else 0,
        )
        for campaign_id, slug, state, cursor in live
    ]


async def _register_past(session: AsyncSession, cursor: int) -> int:
    """Residents after the cursor: a range of the primary key, counted only while a launch opens."""
    statement = select(func.count()).select_from(Resident).where(col(Resident.id) > cursor)
    return int((await session.execute(statement)).scalar_one())


async def _count_by_campaign(
    session: AsyncSession, table: type[Conversation] | type[LaunchSkip], ids: list[int]
) -> dict[int, int]:
    campaign = col(table.campaign_id)
    rows = await session.execute(select(campaign, func.count()).where(campaign.in_(ids)).group_by(campaign))
    return {campaign_id: count for campaign_id, count in rows.all()}
