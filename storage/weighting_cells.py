"""What weighted results read: a campaign's respondents and answers counted per weighting cell (the
respondent's values of the dimensions weighted on, and their inclusion probability), grouped in the
database so that a million answers come back as a few thousand rows.

Values are the snapshot on each answer (as written; the caller folds them). The inclusion
probability is the one the campaign's sample recorded for the resident, 1 for an unsampled
campaign. A respondent counts once, as one of their answers saw them; should their attributes change
between answers, each answer is still counted under its own snapshot.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Text, and_, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped
from sqlmodel import col

from storage.tables import Conversation, Resident, Response, SampledResident

Values = tuple[str | None, ...]  # a respondent's value of each dimension, in the order asked


@dataclass(frozen=True)
class RespondentCell:
    values: Values
    inclusion_probability: float
    respondents: int


@dataclass(frozen=True)
class AnswerCell:
    question_id: str
    value: Any  # the answer as stored (a key, a list of keys, a number, a text)
    values: Values
    inclusion_probability: float
    answers: int


def _probability() -> ColumnElement[Any]:
    return func.coalesce(col(SampledResident.inclusion_probability), 1.0)


def _sampled() -> ColumnElement[bool]:
    return and_(
        col(SampledResident.campaign_id) == col(Response.campaign_id),
        col(SampledResident.resident_id) == col(Response.resident_id),
    )


class _Snapshots:
    """A snapshot's values of the dimensions, read once per distinct snapshot. Answers are grouped by
    the snapshot's JSON text rather than by each attribute pulled out of it: a plain comparison of
    text instead of two JSON lookups per answer, and a handful of snapshots in a campaign."""

    def __init__(self, dimensions: Sequence[str]) -> None:
        self._dimensions = tuple(dimensions)
        self._read: dict[tuple[str, str], Values] = {}

    def values(self, language: str, snapshot: str) -> Values:
        key = (language, snapshot)
        if key not in self._read:
            self._read[key] = snapshot_values(self._dimensions, language, json.loads(snapshot))
        return self._read[key]


def snapshot_values(dimensions: Sequence[str], language: str, attributes: Mapping[str, Any]) -> Values:
    """A respondent's values of `dimensions`: language from the answer, the rest from its attributes."""
    values = [language if dimension == "language" else attributes.get(dimension) for dimension in dimensions]
    return tuple(None if value is None else str(value) for value in values)


async def respondent_cells(session: AsyncSession, campaign_id: int, dimensions: Sequence[str]) -> list[RespondentCell]:
    """Residents who gave at least one answer, counted per cell: each once, as one of their answers
    saw them. Read from the campaign's conversations (one per resident) and each one's first answer
    through the answers' (campaign, resident) index, rather than from every answer."""

    def first_answer(column: ColumnElement[Any] | Mapped[Any]) -> ColumnElement[Any]:
        return (
            select(column)
            .where(col(Response.campaign_id) == col(Conversation.campaign_id))
            .where(col(Response.resident_id) == col(Conversation.resident_id))
            .where(col(Response.value).is_not(None))
            .limit(1)  # no ORDER BY: it would trade the (campaign, resident) index for a scan in id order
            .correlate(Conversation)
            .scalar_subquery()
        )

    per_resident = (
        select(
            first_answer(col(Response.language)).label("language"),
            first_answer(cast(col(Response.attributes), Text)).label("snapshot"),
            func.coalesce(col(SampledResident.inclusion_probability), 1.0).label("probability"),
        )
        .select_from(Conversation)
        .outerjoin(
            SampledResident,
            and_(
                col(SampledResident.campaign_id) == col(Conversation.campaign_id),
                col(SampledResident.resident_id) == col(Conversation.resident_id),
            ),
        )
        .where(col(Conversation.campaign_id) == campaign_id)
        .subquery()
    )
    statement = (
        select(per_resident.c.language, per_resident.c.snapshot, per_resident.c.probability, func.count())
        .where(per_resident.c.snapshot.is_not(None))  # no answer: not a respondent
        .group_by(per_resident.c.language, per_resident.c.snapshot, per_resident.c.probability)
    )
    snapshots = _Snapshots(dimensions)
    cells: dict[tuple[Values, float], int] = {}
    for language, attributes, inclusion, count in (await session.execute(statement)).all():
        key = (snapshots.values(language, attributes), float(inclusion))
        cells[key] = cells.get(key, 0) + int(count)
    return [RespondentCell(values, inclusion, count) for (values, inclusion), count in cells.items()]


async def answer_cells(session: AsyncSession, campaign_id: int, dimensions: Sequence[str]) -> list[AnswerCell]:
    """Answers counted per question, answer and cell (the answer compared as its JSON text)."""
    snapshot = cast(col(Response.attributes), Text)
    probability = _probability()
    value = cast(col(Response.value), Text)
    statement = (
        select(col(Response.question_id), value, col(Response.language), snapshot, probability, func.count())
        .select_from(Response)
        .outerjoin(SampledResident, _sampled())
        .where(col(Response.campaign_id) == campaign_id)
        .where(col(Response.value).is_not(None))
        .group_by(col(Response.question_id), value, col(Response.language), snapshot, probability)
    )
    snapshots = _Snapshots(dimensions)
    answers: dict[str, Any] = {}
    cells: dict[tuple[str, str, Values, float], int] = {}
    for question_id, text, language, attributes, inclusion, count in (await session.execute(statement)).all():
        if text not in answers:
            answers[text] = json.loads(text)
        key = (question_id, text, snapshots.values(language, attributes), float(inclusion))
        cells[key] = cells.get(key, 0) + int(count)
    return [
        AnswerCell(question_id, answers[text], values, inclusion, count)
        for (question_id, text, values, inclusion), count in cells.items()
    ]


async def contacted_cells(
    session: AsyncSession, campaign_id: int, dimensions: Sequence[str]
) -> list[tuple[Values, int]]:
    """Residents asked (their first question sent), counted per value of their attributes now."""
    snapshot = cast(col(Resident.attributes), Text)
    statement = (
        select(col(Resident.language), snapshot, func.count())
        .select_from(Conversation)
        .join(Resident, col(Resident.id) == col(Conversation.resident_id))
        .where(col(Conversation.campaign_id) == campaign_id)
        .where(col(Conversation.asked_at).is_not(None))
        .group_by(col(Resident.language), snapshot)
    )
    snapshots = _Snapshots(dimensions)
    cells: dict[Values, int] = {}
    for language, attributes, count in (await session.execute(statement)).all():
        values = snapshots.values(language, attributes)
        cells[values] = cells.get(values, 0) + int(count)
    return list(cells.items())


async def respondent_probabilities(session: AsyncSession, campaign_id: int) -> dict[str, float]:
    """Each sampled respondent's (pseudonym's) inclusion probability; the rest are 1."""
    statement = (
        select(col(Conversation.respondent), col(SampledResident.inclusion_probability))
        .select_from(SampledResident)
        .join(
            Conversation,
            and_(
                col(Conversation.campaign_id) == col(SampledResident.campaign_id),
                col(Conversation.resident_id) == col(SampledResident.resident_id),
            ),
        )
        .where(col(SampledResident.campaign_id) == campaign_id)
    )
    return {respondent: float(probability) for respondent, probability in (await session.execute(statement)).all()}
