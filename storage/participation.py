"""What the participation figures read (outreach.participation): the campaigns launched in a range,
erased respondents, a campaign's answers counted per group of respondents (drawn in its sample or not,
recruited how), and every participation one by one (`participations`: the meter itself is counted in
the database, storage.meter_counts; this is what its tests compare it with). Ids stay inside the
service: the callers publish aggregates."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Text, and_, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.tables import CampaignRecord, Resident, Response, SampledResident

RECRUITED_VIA = "recruited_via"  # the attributes outreach.campaigns.recruitment names
RECRUITMENT_SOURCE = "recruitment_source"
DISTRICT = "district"


@dataclass(frozen=True)
class ParticipationRow:
    """A resident's answers to one campaign, as their first answer there saw them."""

    resident_id: int
    campaign_id: int
    answered_at: datetime
    channel: str
    district: str | None
    recruitment_source: str | None


@dataclass(frozen=True)
class GroupedAnswers:
    question_id: str
    value: Any
    drawn: bool
    recruited_via: str | None
    count: int


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


async def participations(session: AsyncSession, *, respondents_of: int | None = None) -> list[ParticipationRow]:
    """Every resident's participation in every campaign (of the residents who answered the campaign
    `respondents_of`, when given): one row each, grouped in the database; should a resident's channel
    or snapshot change within a campaign, the earliest answer's wins. A row per participation: for
    tests and small histories (storage.meter_counts counts the meter without reading them)."""
    district = col(Response.attributes)[DISTRICT].as_string()
    source = col(Response.attributes)[RECRUITMENT_SOURCE].as_string()
    statement = (
        select(
            col(Response.resident_id),
            col(Response.campaign_id),
            col(Response.channel),
            district,
            source,
            func.min(col(Response.answered_at)),
        )
        .where(col(Response.value).is_not(None))
        .where(col(Response.resident_id).not_in(erased_stand_ins()))
        .group_by(col(Response.resident_id), col(Response.campaign_id), col(Response.channel), district, source)
    )
    if respondents_of is not None:
        answered = (
            select(col(Response.resident_id))
            .where(col(Response.campaign_id) == respondents_of)
            .where(col(Response.value).is_not(None))
        )
        statement = statement.where(col(Response.resident_id).in_(answered))
    earliest: dict[tuple[int, int], ParticipationRow] = {}
    for resident_id, campaign_id, channel, place, origin, answered_at in (await session.execute(statement)).all():
        row = ParticipationRow(resident_id, campaign_id, answered_at, channel, _text(place), _text(origin))
        known = earliest.get((resident_id, campaign_id))
        if known is None or row.answered_at < known.answered_at:
            earliest[(resident_id, campaign_id)] = row
    return list(earliest.values())


def erased_stand_ins() -> Any:
    """An erasure's stand-ins (storage.erasure): one per campaign, so they cannot say who came back."""
    return select(col(Resident.id)).where(col(Resident.erased_at).is_not(None))


async def erased_respondents(session: AsyncSession, campaign_ids: Collection[int]) -> int:
    """Respondents of these campaigns erased since (their answers kept, anonymised): the meter leaves
    them out, and says how many."""
    statement = (
        select(func.count(func.distinct(col(Response.resident_id))))
        .where(col(Response.campaign_id).in_(list(campaign_ids)))
        .where(col(Response.value).is_not(None))
        .where(col(Response.resident_id).in_(erased_stand_ins()))
    )
    return int((await session.execute(statement)).scalar_one())


async def campaigns_launched(session: AsyncSession, since: datetime, until: datetime) -> dict[int, str]:
    """Campaigns launched in [since, until), id → slug, in launch order."""
    statement = (
        select(col(CampaignRecord.id), col(CampaignRecord.slug))
        .where(col(CampaignRecord.launched_at) >= since)
        .where(col(CampaignRecord.launched_at) < until)
        .order_by(col(CampaignRecord.launched_at), col(CampaignRecord.id))
    )
    rows = (await session.execute(statement)).all()
    return {campaign_id: slug for campaign_id, slug in rows if campaign_id is not None}


def _drawn() -> Any:
    return and_(
        col(SampledResident.campaign_id) == col(Response.campaign_id),
        col(SampledResident.resident_id) == col(Response.resident_id),
    )


async def respondents_by_group(session: AsyncSession, campaign_id: int) -> dict[tuple[bool, str | None], int]:
    """The campaign's respondents per (drawn in its sample, recruited via); recruitment is the
    resident's, set once and never changed (outreach.campaigns.recruitment)."""
    via = col(Resident.attributes)[RECRUITED_VIA].as_string()
    drawn = col(SampledResident.id).is_not(None)
    statement = (
        select(drawn, via, func.count(func.distinct(col(Response.resident_id))))
        .select_from(Response)
        .join(Resident, col(Resident.id) == col(Response.resident_id))
        .outerjoin(SampledResident, _drawn())
        .where(col(Response.campaign_id) == campaign_id)
        .where(col(Response.value).is_not(None))
        .group_by(drawn, via)
    )
    counts: dict[tuple[bool, str | None], int] = {}
    for is_drawn, recruited_via, n in (await session.execute(statement)).all():
        key = (bool(is_drawn), _text(recruited_via))
        counts[key] = counts.get(key, 0) + int(n)
    return counts


async def answers_by_group(session: AsyncSession, campaign_id: int) -> list[GroupedAnswers]:
    """The campaign's answers counted per question, answer (compared as its JSON text) and group."""
    via = col(Resident.attributes)[RECRUITED_VIA].as_string()
    drawn = col(SampledResident.id).is_not(None)
    value = cast(col(Response.value), Text)
    statement = (
        select(col(Response.question_id), value, drawn, via, func.count())
        .select_from(Response)
        .join(Resident, col(Resident.id) == col(Response.resident_id))
        .outerjoin(SampledResident, _drawn())
        .where(col(Response.campaign_id) == campaign_id)
        .where(col(Response.value).is_not(None))
        .group_by(col(Response.question_id), value, drawn, via)
    )
    return [
        GroupedAnswers(question_id, json.loads(text), bool(is_drawn), _text(recruited_via), int(n))
        for question_id, text, is_drawn, recruited_via, n in (await session.execute(statement)).all()
    ]
