"""The usual-suspects meter counted in the database (outreach.participation.meter holds what the counts
mean, and the same counting in Python as its definition): how many campaigns each respondent answered,
as a histogram (answers → residents), overall and per channel, district and recruitment source, and
each measured campaign's respondents and first-timers, overall and per group. A city's history of
answers comes back as a few dozen rows; no resident id leaves the database.

A participation is a resident's answers to one campaign, as its earliest answer (the lower id on a
tie) saw them (channel, district, recruitment source); its time is that answer's. A resident's first
participation is the earliest (the lower campaign id on a tie), over their whole history. One
statement, window functions and GROUP BY only, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Integer, Select, Text, case, cast, func, literal, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.grouping import prepare_grouping
from storage.participation import DISTRICT, RECRUITMENT_SOURCE, erased_stand_ins
from storage.tables import Response

SPLITS = ("channel", "district", "recruitment_source")
Histogram = dict[int, int]  # campaigns answered → residents who answered that many


@dataclass(frozen=True)
class Newcomers:
    respondents: int
    first_timers: int


@dataclass
class MeterCounts:
    """What the meter is made of. `groups` and `group_campaigns` are keyed by (split, value) of SPLITS;
    a (group, campaign) or campaign nobody answered is absent."""

    answered: Histogram = field(default_factory=dict)
    campaigns: dict[int, Newcomers] = field(default_factory=dict)
    groups: dict[tuple[str, str | None], Histogram] = field(default_factory=dict)
    group_campaigns: dict[tuple[str, str | None, int], Newcomers] = field(default_factory=dict)


async def range_counts(session: AsyncSession, campaign_ids: Collection[int]) -> MeterCounts:
    """The meter over the participations in these campaigns; first-timers judged on everybody's whole
    history."""
    participations = _participations(respondents_of=None)
    scope = select(participations).where(participations.c.campaign_id.in_(list(campaign_ids))).cte("scope")
    return await _counted(session, scope, campaign_ids)


async def campaign_counts(session: AsyncSession, campaign_id: int) -> MeterCounts:
    """One campaign's respondents and their participations up to it (none whose first answer came after
    the campaign's last respondent's first answer: a later campaign must not change how it reads)."""
    participations = _participations(respondents_of=campaign_id)
    last = (
        select(func.max(participations.c.answered_at))
        .where(participations.c.campaign_id == campaign_id)
        .scalar_subquery()
    )
    scope = select(participations).where(participations.c.answered_at <= last).cte("scope")
    return await _counted(session, scope, [campaign_id])


def _participations(respondents_of: int | None) -> Any:
    """Every participation (of the residents who answered `respondents_of`, when given) with `first`:
    1 when it is the resident's first, else 0. Erased residents' stand-ins are left out."""
    resident, campaign, answered_at = col(Response.resident_id), col(Response.campaign_id), col(Response.answered_at)
    # Each participation's earliest answer (the lower id on a tie) is found on narrow rows; only those
    # 200,000 of a million answers are then joined back for their channel and snapshot: PostgreSQL parses
    # a json column on every ->>, and did so for every answer when the answers were grouped on it.
    ranked = (
        select(
            col(Response.id).label("id"),
            resident.label("resident_id"),
            campaign.label("campaign_id"),
            answered_at.label("answered_at"),
            func.row_number()
            .over(partition_by=(resident, campaign), order_by=(answered_at, col(Response.id)))
            .label("nth"),
        )
        .where(col(Response.value).is_not(None))
        .where(resident.not_in(erased_stand_ins()))
    )
    if respondents_of is not None:
        answered = select(resident).where(campaign == respondents_of).where(col(Response.value).is_not(None))
        ranked = ranked.where(resident.in_(answered))
    answers = ranked.cte("ranked")
    earliest = (
        select(
            answers.c.resident_id,
            answers.c.campaign_id,
            answers.c.answered_at,
            col(Response.channel).label("channel"),
            col(Response.attributes)[DISTRICT].as_string().label("district"),
            col(Response.attributes)[RECRUITMENT_SOURCE].as_string().label("recruitment_source"),
        )
        .join_from(answers, Response, col(Response.id) == answers.c.id)
        .where(answers.c.nth == 1)
        .cte("earliest")
    )
    nth_participation = func.row_number().over(
        partition_by=earliest.c.resident_id, order_by=(earliest.c.answered_at, earliest.c.campaign_id)
    )
    first = case((nth_participation == 1, 1), else_=0)
    return select(earliest, first.label("first")).cte("participations")


async def _counted(session: AsyncSession, scope: Any, measured: Collection[int]) -> MeterCounts:
    """The histograms and newcomers of the participations in `scope`, in one statement: each row says
    (split or None, value, campaign, answers, residents, first-timers); a histogram row has no campaign."""
    campaigns = list(measured)
    parts: list[Select[Any]] = [_histogram(scope, None)]
    parts += [_histogram(scope, split) for split in SPLITS]
    parts.append(_newcomers(scope, None, campaigns))
    parts += [_newcomers(scope, split, campaigns) for split in SPLITS]
    await prepare_grouping(session)
    counts = MeterCounts()
    for split, value, campaign_id, answers, residents, first_timers in (await session.execute(union_all(*parts))).all():
        if campaign_id is None:
            histogram = counts.answered if split is None else counts.groups.setdefault((split, value), {})
            histogram[int(answers)] = int(residents)
        elif split is None:
            counts.campaigns[int(campaign_id)] = Newcomers(int(residents), int(first_timers))
        else:
            counts.group_campaigns[(split, value, int(campaign_id))] = Newcomers(int(residents), int(first_timers))
    return counts


def _names(split: str | None, value: Any) -> tuple[Any, Any]:
    """(split, value) columns, typed (nulls for the overall rows) so that every part of the union agrees."""
    if split is None:
        return cast(null(), Text), cast(null(), Text)
    return literal(split, Text), cast(value, Text)


def _histogram(scope: Any, split: str | None) -> Select[Any]:
    """Residents per number of participations (per value of `split`, when given)."""
    value = null() if split is None else scope.c[split]
    keys = [scope.c.resident_id] + ([] if split is None else [value])
    per_resident = (
        select(value.label("value"), func.count().label("answers")).select_from(scope).group_by(*keys).subquery()
    )
    values = [] if split is None else [per_resident.c.value]
    return select(
        *_names(split, per_resident.c.value),
        cast(null(), Integer),
        per_resident.c.answers,
        func.count(),
        cast(null(), Integer),
    ).group_by(*values, per_resident.c.answers)


def _newcomers(scope: Any, split: str | None, campaigns: list[int]) -> Select[Any]:
    """Respondents and first-timers per measured campaign (and value of `split`, when given)."""
    value = None if split is None else scope.c[split]
    keys = [scope.c.campaign_id] + ([] if split is None else [value])
    return (
        select(*_names(split, value), scope.c.campaign_id, cast(null(), Integer), func.count(), func.sum(scope.c.first))
        .where(scope.c.campaign_id.in_(campaigns))
        .group_by(*keys)
    )
