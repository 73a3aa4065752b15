"""Queueing many outbox messages at once (a launch's first questions), set-based (storage.bulk).

The same rows `OutboxRepository.enqueue` writes one at a time; here the caller knows each address's
channel already and has checked that none of the keys is queued (in its transaction): a clash is
refused, not skipped, and the caller falls back to `enqueue` row by row. Rows are tuples in the order
of OUTBOX_COLUMNS (a city's launch queues half a million): `queued_row`'s columns, then the channel."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.bulk import insert_records
from storage.outbox import NewMessage, queued_row
from storage.tables import OutboxMessage

OUTBOX_COLUMNS = (*queued_row(NewMessage("", 0, 0, "", ""), now=datetime.min.replace(tzinfo=UTC)), "channel")


def outbox_record(message: NewMessage, *, channel: str, now: datetime) -> tuple[Any, ...]:
    """A new message's row, in the order of OUTBOX_COLUMNS."""
    return (*queued_row(message, now=now).values(), channel)


async def enqueue_records(session: AsyncSession, records: Sequence[tuple[Any, ...]]) -> None:
    """Queue these rows (each in the order of OUTBOX_COLUMNS) in one set-based write."""
    await insert_records(session, OutboxMessage.__table__, OUTBOX_COLUMNS, records)  # type: ignore[attr-defined]
