"""What weighted results read: a campaign's respondents and answers counted per weighting cell (the
respondent's values of the dimensions weighted on, and their inclusion probability), grouped in the
database so that a million answers come back as a few thousand rows.

Values are the snapshot on each answer (as written; the caller folds them). The inclusion
probability is the one the campaign's sample recorded for the resident, 1 for an unsampled
campaign. A resident whose attributes changed between two answers counts in both cells.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Text, and_, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession
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


def _attribute(dimension: str) -> ColumnElement[Any]:
    if dimension == "language":
        return cast_column(col(Response.language))
    return cast_column(col(Response.attributes)[dimension].as_string())


def cast_column(expression: object) -> ColumnElement[Any]:
    """An attribute or column as the expression it is in a query (for the type checker)."""
    return typing.cast(ColumnElement[Any], expression)


def _probability() -> ColumnElement[Any]:
    return func.coalesce(col(SampledResident.inclusion_probability), 1.0)


def _sampled() -> ColumnElement[bool]:
    return and_(
        col(SampledResident.campaign_id) == col(Response.campaign_id),
        col(SampledResident.resident_id) == col(Response.resident_id),
    )


def _values(row: Sequence[Any], count: int) -> Values:
    return tuple(None if value is None else str(value) for value in row[:count])


async def respondent_cells(session: AsyncSession, campaign_id: int, dimensions: Sequence[str]) -> list[RespondentCell]:
    """Residents who gave at least one answer, counted per cell."""
    attributes = [_attribute(dimension) for dimension in dimensions]
    probability = _probability()
    statement = (
        select(*attributes, probability, func.count(func.distinct(col(Response.resident_id))))
        .select_from(Response)
        .outerjoin(SampledResident, _sampled())
        .where(col(Response.campaign_id) == campaign_id)
        .where(col(Response.value).is_not(None))
        .group_by(*attributes, probability)
    )
    rows = (await session.execute(statement)).all()
    width = len(dimensions)
    return [RespondentCell(_values(row, width), float(row[width]), int(row[width + 1])) for row in rows]


async def answer_cells(session: AsyncSession, campaign_id: int, dimensions: Sequence[str]) -> list[AnswerCell]:
    """Answers counted per question, answer and cell (the answer compared as its JSON text)."""
    attributes = [_attribute(dimension) for dimension in dimensions]
    probability = _probability()
    value = cast(col(Response.value), Text)
    statement = (
        select(col(Response.question_id), value, *attributes, probability, func.count())
        .select_from(Response)
        .outerjoin(SampledResident, _sampled())
        .where(col(Response.campaign_id) == campaign_id)
        .where(col(Response.value).is_not(None))
        .group_by(col(Response.question_id), value, *attributes, probability)
    )
    rows = (await session.execute(statement)).all()
    width = len(dimensions)
    return [
        AnswerCell(row[0], json.loads(row[1]), _values(row[2:], width), float(row[2 + width]), int(row[3 + width]))
        for row in rows
    ]


async def contacted_cells(
    session: AsyncSession, campaign_id: int, dimensions: Sequence[str]
) -> list[tuple[Values, int]]:
    """Residents asked (their first question sent), counted per value of their attributes now."""

    def attribute(dimension: str) -> ColumnElement[Any]:
        if dimension == "language":
            return cast_column(col(Resident.language))
        return cast_column(col(Resident.attributes)[dimension].as_string())

    attributes = [attribute(dimension) for dimension in dimensions]
    statement = (
        select(*attributes, func.count())
        .select_from(Conversation)
        .join(Resident, col(Resident.id) == col(Conversation.resident_id))
        .where(col(Conversation.campaign_id) == campaign_id)
        .where(col(Conversation.asked_at).is_not(None))
        .group_by(*attributes)
    )
    rows = (await session.execute(statement)).all()
    width = len(dimensions)
    return [(_values(row, width), int(row[width])) for row in rows]


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
