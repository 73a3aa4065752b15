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
from storage.outbox import NewMessage
from storage.tables import OutboxMessage


def outbox_row(message: NewMessage, *, channel: str, now: datetime) -> dict[str, Any]:
    return {
        "idempotency_key": message.idempotency_key,
        "campaign_id": message.campaign_id,
        "resident_id": message.resident_id,
        "contact_id": message.contact_id,
        "channel": channel,
        "kind": message.kind,
        "text": message.text,
        "choices": list(message.choices),
        "choice_style": message.choice_style,
        "submit_label": message.submit_label,
        "template": dict(message.template) if message.template else None,
        "status": message.status,
        "attempts": 0,
        "next_attempt_at": message.not_before or now,
        "quiet_hours": message.quiet_hours,
        "timezone": message.timezone,
        "created_at": now,
    }


async def enqueue_many(session: AsyncSession, messages: Sequence[tuple[NewMessage, str]], *, now: datetime) -> None:
    """Queue each (message, its address's channel) in one set-based write."""
    rows = [outbox_row(message, channel=channel, now=now) for message, channel in messages]
    await insert_rows(session, OutboxMessage.__table__, rows)  # type: ignore[attr-defined]
