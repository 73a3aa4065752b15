"""What weighted results read: a campaign's respondents and answers counted per weighting cell (the
respondent's values of the dimensions weighted on, and their inclusion probability), grouped in the
database so that a million answers come back as a few thousand rows.

Values are the snapshot on each answer (as written; the caller folds them). The inclusion
probability is the one the campaign's sample drew the resident with, copied onto each answer when it
was stored (1 for an unsampled campaign), so answers are grouped alone, with no join per answer; on
SQLite the results index (storage.tables.RESULTS_INDEX) hands them over already in their groups. A
respondent counts once, as one of their answers saw them; should their attributes change between
answers, each answer is still counted under its own snapshot.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Text, and_, cast, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped
from sqlmodel import col

from storage.dialect import dialect_name
from storage.grouping import as_text, json_text
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


def _probability(inclusion: float | None) -> float:
    return 1.0 if inclusion is None else float(inclusion)


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
    saw them. Read from the campaign's conversations (one per resident), each one's first answer found
    through the answers' (campaign, resident) index, rather than from every answer."""
    first = (
        select(col(Response.language), col(Response.attributes), col(Response.inclusion_probability))
        .where(col(Response.campaign_id) == col(Conversation.campaign_id))
        .where(col(Response.resident_id) == col(Conversation.resident_id))
        .where(col(Response.value).is_not(None))
        .limit(1)  # no ORDER BY: it would trade the (campaign, resident) index for a scan in id order
    )
    columns: tuple[ColumnElement[Any] | Mapped[Any], ...]
    if dialect_name(session) == "postgresql":
        # A lateral join probes the index once per conversation; joined on the id, PostgreSQL hashes
        # every answer of the campaign instead.
        answer = first.lateral("first_answer")
        joined = select().select_from(Conversation).join(answer, true())
        columns = (answer.c.language, cast(answer.c.attributes, Text), answer.c.inclusion_probability)
    else:
        # SQLite has no lateral join: the first answer's id, then the answer by its key.
        first_id = first.with_only_columns(col(Response.id)).correlate(Conversation).scalar_subquery()
        joined = select().select_from(Conversation).join(Response, col(Response.id) == first_id)
        columns = (
            col(Response.language),
            as_text(session, col(Response.attributes)),
            col(Response.inclusion_probability),
        )
    statement = (
        joined.add_columns(*columns, func.count())
        .where(col(Conversation.campaign_id) == campaign_id)
        .group_by(*columns)
    )
    snapshots = _Snapshots(dimensions)
    cells: dict[tuple[Values, float], int] = {}
    for language, attributes, inclusion, count in (await session.execute(statement)).all():
        key = (snapshots.values(language, attributes), _probability(inclusion))
        cells[key] = cells.get(key, 0) + int(count)
    return [RespondentCell(values, inclusion, count) for (values, inclusion), count in cells.items()]


async def answer_cells(session: AsyncSession, campaign_id: int, dimensions: Sequence[str]) -> list[AnswerCell]:
    """Answers counted per question, answer and cell (the answer compared as its JSON text), grouped in
    the order of the results index."""
    value = as_text(session, col(Response.value))
    snapshot = as_text(session, col(Response.attributes))
    probability = col(Response.inclusion_probability)
    grouped = (col(Response.question_id), value, col(Response.language), snapshot, probability)
    statement = (
        select(*grouped, func.count())
        .where(col(Response.campaign_id) == campaign_id)
        .where(col(Response.value).is_not(None))
        .group_by(*grouped)
    )
    snapshots = _Snapshots(dimensions)
    answers: dict[str, Any] = {}
    cells: dict[tuple[str, str, Values, float], int] = {}
    for question_id, stored, language, attributes, inclusion, count in (await session.execute(statement)).all():
        written = json_text(stored)
        if written not in answers:
            answers[written] = json.loads(written)
        key = (question_id, written, snapshots.values(language, attributes), _probability(inclusion))
        cells[key] = cells.get(key, 0) + int(count)
    return [
        AnswerCell(question_id, answers[written], values, inclusion, count)
        for (question_id, written, values, inclusion), count in cells.items()
    ]


async def contacted_cells(
    session: AsyncSession, campaign_id: int, dimensions: Sequence[str]
) -> list[tuple[Values, int]]:
    """Residents asked (their first question sent), counted per value of their attributes now."""
    snapshot = as_text(session, col(Resident.attributes))
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
