"""The erasures feed: a campaign's erasure notices (tombstones) in commit order, for API consumers
that copy answers and must follow an erasure (the old respondent id's answers now carry a fresh,
unlinked id). Paged like the answer feed, by (txid, id) below the finished-transaction horizon."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.answer_feed import Position
from storage.commit_order import ready_after
from storage.dialect import dialect_name
from storage.tables import ErasureNotice


@dataclass(frozen=True)
class Notice:
    respondent: str
    erased_on: date
    position: Position


async def notices_page(session: AsyncSession, campaign_id: int, *, after: Position, limit: int) -> list[Notice]:
    """Up to `limit` + 1 notices after `after` (one more tells the caller there are more)."""
    statement = (
        select(
            col(ErasureNotice.txid), col(ErasureNotice.id), col(ErasureNotice.respondent), col(ErasureNotice.erased_at)
        )
        .where(col(ErasureNotice.campaign_id) == campaign_id)
        .where(ready_after(col(ErasureNotice.txid), col(ErasureNotice.id), after.txid, after.id, dialect_name(session)))
        .order_by(col(ErasureNotice.txid), col(ErasureNotice.id))
        .limit(limit + 1)
    )
    return [
        Notice(respondent, erased_at.date(), Position(int(txid or 0), int(row_id or 0)))
        for txid, row_id, respondent, erased_at in (await session.execute(statement)).all()
    ]
