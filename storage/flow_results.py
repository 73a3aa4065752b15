"""What a Flow Results package reads: every answer of a campaign as plain rows, in commit order, a
batch at a time, with only the allowlisted attributes of the respondent as they were when answering
(the snapshot on the answer). Pseudonymous ids only."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.tables import Response

BATCH = 1000  # rows per fetch: the per-fetch cost vanishes, a batch stays far below a megabyte

# question id, respondent, value, channel, answered_at (exact: the caller publishes it coarsened),
# language, the allowlisted attributes (name -> value, None where the snapshot has none)
AnsweredRow = tuple[str, str, Any, str, datetime, str, dict[str, Any]]


async def answered_rows(
    session: AsyncSession, campaign_id: int, attributes: Sequence[str], *, batch: int = BATCH
) -> AsyncIterator[list[AnsweredRow]]:
    """Every given answer (never the asked-and-unanswered) of a campaign in commit order
    (`storage.commit_order`; on SQLite, answer order), `batch` rows at a time, as plain columns
    through the core connection: memory stays flat however many answers there are."""
    statement = (
        select(
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
        .order_by(col(Response.txid), col(Response.id))
        .execution_options(yield_per=batch)
    )
    connection = await session.connection()
    result = await connection.stream(statement)
    async for rows in result.partitions(batch):
        yield [
            (
                question_id,
                respondent,
                value,
                channel,
                answered_at,
                language,
                {name: snapshot.get(name) for name in attributes},
            )
            for question_id, respondent, value, channel, answered_at, language, snapshot in rows
        ]
