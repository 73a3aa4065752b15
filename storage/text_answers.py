"""Free-text answers of a campaign as plain rows, for the results that group them by shared words.

Read only by `outreach.results.free_text`, which scrubs every text before it goes anywhere."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.tables import Response


@dataclass(frozen=True)
class TextAnswerRow:
    question_id: str
    text: str
    language: str  # the respondent's when answering


async def text_answers(session: AsyncSession, campaign_id: int, question_ids: Collection[str]) -> list[TextAnswerRow]:
    """The answers to `question_ids` (text questions), in commit order; unanswered ones left out."""
    if not question_ids:
        return []
    statement = (
        select(col(Response.question_id), col(Response.value), col(Response.language))
        .where(col(Response.campaign_id) == campaign_id)
        .where(col(Response.question_id).in_(sorted(question_ids)))
        .where(col(Response.value).is_not(None))
        .order_by(col(Response.txid), col(Response.id))
        .execution_options(yield_per=1000)
    )
    rows: list[TextAnswerRow] = []
    async for question_id, value, language in await session.stream(statement):
        if isinstance(value, str) and value.strip():
            rows.append(TextAnswerRow(question_id, value, language))
    return rows
