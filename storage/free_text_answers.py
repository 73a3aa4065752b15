"""Free-text answers for retention (outreach.rights.raw_text): read a page of those given before a
cut-off and not yet scrubbed, in id order after a cursor, and write back the values that replace them,
marking the page scrubbed (`responses.text_scrubbed_at`) so no later run reads it again."""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.tables import Response


async def answers_before(
    session: AsyncSession,
    questions: Mapping[int, Set[str]],
    before: datetime,
    *,
    after_id: int,
    limit: int,
) -> list[tuple[int, Any]]:
    """(id, value) of answers to `questions` (campaign id: question ids) given before `before`, not yet
    scrubbed, with an id above `after_id`, oldest id first: the caller pages on with the last id it got."""
    if not questions:
        return []
    asked = or_(
        *(
            and_(col(Response.campaign_id) == campaign_id, col(Response.question_id).in_(sorted(ids)))
            for campaign_id, ids in questions.items()
        )
    )
    rows = await session.execute(
        select(col(Response.id), col(Response.value))
        .where(asked)
        .where(col(Response.answered_at) < before)
        .where(col(Response.text_scrubbed_at).is_(None))
        .where(col(Response.id) > after_id)
        .order_by(col(Response.id))
        .limit(limit)
    )
    return [(int(row[0]), row[1]) for row in rows.all()]


async def mark_scrubbed(session: AsyncSession, ids: Sequence[int], values: Mapping[int, str], at: datetime) -> None:
    """Mark the answers `ids` scrubbed at `at`, storing the new value of those in `values` (id: value)."""
    for response_id, value in values.items():
        await session.execute(update(Response).where(col(Response.id) == response_id).values(value=value))
    await session.execute(update(Response).where(col(Response.id).in_(ids)).values(text_scrubbed_at=at))
