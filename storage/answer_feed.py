"""Reads behind the REST API: answers in commit order (incremental sync) and campaign counts.

Pseudonymous respondent ids and allowlisted attributes only; addresses are never read here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.commit_order import ready_after
from storage.dialect import dialect_name
from storage.tables import Conversation, Response


@dataclass(frozen=True, order=True)
class Position:
    """A place in a campaign's answers, in commit order: after the row (txid, id). (0, 0) is the start."""

    txid: int = 0
    id: int = 0


START = Position()


@dataclass(frozen=True)
class AnswerRow:
    question_id: str
    respondent: str
    value: Any
    channel: str
    answered_at: datetime
    language: str
    attributes: dict[str, Any]
    position: Position


@dataclass(frozen=True)
class AnswerPage:
    rows: list[AnswerRow]
    has_more: bool

    def end(self, after: Position) -> Position:
        """Where the next page (or a later sync) starts: after the last row handed out."""
        return self.rows[-1].position if self.rows else after


async def answers_page(
    session: AsyncSession,
    campaign_id: int,
    *,
    after: Position,
    limit: int,
    attributes: Sequence[str],
    question: str | None = None,
    channel: str | None = None,
    language: str | None = None,
    attribute_equals: Mapping[str, str] | None = None,
) -> AnswerPage:
    """Up to `limit` answers after `after`, in commit order, that every reader will always see in
    this order: on PostgreSQL only rows whose transaction is older than every transaction still
    running are handed out (storage.commit_order), so a row committed late can never land behind a
    position already handed out. Each row carries only the allowlisted `attributes`, as the respondent
    had them when answering (the snapshot on the answer, never the resident's current row)."""
    statement = (
        select(
            col(Response.txid),
            col(Response.id),
            col(Response.question_id),
            col(Response.respondent),
            col(Response.value),
            col(Response.channel),
            col(Response.answered_at),
            col(Response.language),
            col(Response.attributes),
        )
        .where(col(Response.campaign_id) == campaign_id)
        .where(col(Response.value).is_not(None))
        .where(ready_after(col(Response.txid), col(Response.id), after.txid, after.id, dialect_name(session)))
        .order_by(col(Response.txid), col(Response.id))
        .limit(limit + 1)
    )
    if question is not None:
        statement = statement.where(col(Response.question_id) == question)
    if channel is not None:
        statement = statement.where(col(Response.channel) == channel)
    if language is not None:
        statement = statement.where(col(Response.language) == language)
    for name, value in (attribute_equals or {}).items():
        statement = statement.where(col(Response.attributes)[name].as_string() == value)
    rows = (await session.execute(statement)).all()
    answers = [
        AnswerRow(
            question_id=question_id,
            respondent=respondent,
            value=value,
            channel=answer_channel,
            answered_at=answered_at,
            language=respondent_language,
            attributes={name: respondent_attributes.get(name) for name in attributes},
            position=Position(int(txid), int(row_id)),
        )
        for (
            txid,
            row_id,
            question_id,
            respondent,
            value,
            answer_channel,
            answered_at,
            respondent_language,
            respondent_attributes,
        ) in rows[:limit]
    ]
    return AnswerPage(rows=answers, has_more=len(rows) > limit)


@dataclass(frozen=True)
class CampaignCounts:
    contacted: int  # conversations whose first question went out
    respondents: int  # residents with at least one answer
    answers: int


async def campaign_counts(session: AsyncSession, campaign_id: int) -> CampaignCounts:
    contacted = (
        await session.execute(
            select(func.count())
            .select_from(Conversation)
            .where(col(Conversation.campaign_id) == campaign_id)
            .where(col(Conversation.asked_at).is_not(None))
        )
    ).scalar_one()
    respondents, answers = (
        await session.execute(
            select(func.count(func.distinct(col(Response.resident_id))), func.count())
            .select_from(Response)
            .where(col(Response.campaign_id) == campaign_id)
            .where(col(Response.value).is_not(None))
        )
    ).one()
    return CampaignCounts(contacted=int(contacted), respondents=int(respondents), answers=int(answers))
