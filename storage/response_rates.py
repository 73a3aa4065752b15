"""A campaign's residents asked and respondents, counted in the database for the campaign page's
live results: per channel and district (one grouped query), and per hour of the day they were asked
or first answered (two grouped queries, a few hundred rows however many answers the campaign has).

Raw counts: small cells are the caller's to withhold. A resident counts once, on the channel of the
address the campaign asked them on and in the district their record names now (as residents asked
are counted by weighted results, storage.weighting_cells.contacted_cells)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, String, case, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.dialect import dialect_name
from storage.tables import ContactAddress, Conversation, Resident, Response

DISTRICT = "district"
_HOUR_TEXT = "%Y-%m-%d %H"  # what `_hour` gives on either database


@dataclass(frozen=True)
class RateCell:
    channel: str
    district: str | None  # None: not recorded
    asked: int
    answered: int  # of them, residents who gave at least one usable answer


def _answered(campaign_id: int) -> ColumnElement[bool]:
    # Through the answers' (campaign, resident, question) unique index: one probe per conversation.
    return exists(
        select(col(Response.id))
        .where(col(Response.campaign_id) == campaign_id)
        .where(col(Response.resident_id) == col(Conversation.resident_id))
        .where(col(Response.value).is_not(None))
    )


async def rate_cells(session: AsyncSession, campaign_id: int) -> list[RateCell]:
    """Residents asked and respondents per (channel, district)."""
    district = col(Resident.attributes)[DISTRICT].as_string()
    statement = (
        select(
            col(ContactAddress.channel),
            district,
            func.count(),
            func.sum(case((_answered(campaign_id), 1), else_=0)),
        )
        .select_from(Conversation)
        .join(ContactAddress, col(ContactAddress.id) == col(Conversation.contact_id))
        .join(Resident, col(Resident.id) == col(Conversation.resident_id))
        .where(col(Conversation.campaign_id) == campaign_id)
        .where(col(Conversation.asked_at).is_not(None))  # waiting ones were never asked
        .group_by(col(ContactAddress.channel), district)
    )
    return [
        RateCell(channel, None if place is None else str(place), int(asked), int(answered or 0))
        for channel, place, asked, answered in (await session.execute(statement)).all()
    ]


def _hour(session: AsyncSession, column: Any) -> ColumnElement[str]:
    """A timestamp's hour as text, "2026-12-04 21", grouped in the database."""
    if dialect_name(session) == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24", type_=String)
    return func.substr(column, 1, 13, type_=String)  # SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff" (UTC)


def _hours(rows: Any) -> dict[datetime, int]:
    return {datetime.strptime(hour, _HOUR_TEXT).replace(tzinfo=UTC): int(count) for hour, count in rows}


async def asked_by_hour(session: AsyncSession, campaign_id: int) -> dict[datetime, int]:
    """Residents asked, by the hour their conversation started (UTC)."""
    hour = _hour(session, col(Conversation.started_at))
    statement = (
        select(hour, func.count())
        .where(col(Conversation.campaign_id) == campaign_id)
        .where(col(Conversation.asked_at).is_not(None))
        .group_by(hour)
    )
    return _hours((await session.execute(statement)).all())


async def first_answers_by_hour(session: AsyncSession, campaign_id: int) -> dict[datetime, int]:
    """Respondents, by the hour of their first usable answer (UTC)."""
    firsts = (
        select(func.min(col(Response.answered_at)).label("first"))
        .where(col(Response.campaign_id) == campaign_id)
        .where(col(Response.value).is_not(None))
        .group_by(col(Response.resident_id))
        .subquery()
    )
    hour = _hour(session, firsts.c.first)
    statement = select(hour, func.count()).select_from(firsts).group_by(hour)
    return _hours((await session.execute(statement)).all())
