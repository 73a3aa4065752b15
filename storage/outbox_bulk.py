"""Queueing many outbox messages at once (a launch's first questions), set-based (storage.bulk).

The same rows `OutboxRepository.enqueue` writes one at a time; here the caller knows each address's
channel already and has checked that none of the keys is queued (in its transaction): a clash is
refused, not skipped, and the caller falls back to `enqueue` row by row."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.bulk import insert_rows
from storage.outbox import NewMessage, queued_row
from storage.tables import OutboxMessage


def outbox_row(message: NewMessage, *, channel: str, now: datetime) -> dict[str, Any]:
    return {**queued_row(message, now=now), "channel": channel}


async def enqueue_many(session: AsyncSession, messages: Sequence[tuple[NewMessage, str]], *, now: datetime) -> None:
    """Queue each (message, its address's channel) in one set-based write."""
    rows = [outbox_row(message, channel=channel, now=now) for message, channel in messages]
    await insert_rows(session, OutboxMessage.__table__, rows)  # type: ignore[attr-defined]
