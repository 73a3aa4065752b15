"""Events for outgoing webhooks, written where their facts happen and in the same transaction.

One INSERT … SELECT per fact: it writes the event only while some subscriber (active or paused) wants
that type for that campaign, so a service nobody subscribed to writes nothing, and a paused
subscriber's events wait for it. Facts are ids and states, never personal data.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, exists, insert, literal, null, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.types import UtcDateTime
from storage.webhook_tables import WebhookEvent, WebhookSubscriber

RESPONSE_CREATED = "response.created"
CONVERSATION_COMPLETED = "conversation.completed"
CAMPAIGN_STATUS_CHANGED = "campaign.status_changed"
EVENT_TYPES = (RESPONSE_CREATED, CONVERSATION_COMPLETED, CAMPAIGN_STATUS_CHANGED)


def new_message_id() -> str:
    """The event's webhook-id: the same on every attempt and replay, so receivers drop duplicates."""
    return "msg_" + secrets.token_hex(16)


def wanted_by(event_type: Any, campaign_id: Any) -> Any:
    """Subscribers (not deleted) that take `event_type` for `campaign_id` (each a column or a value)."""
    # The events list is JSON: its text holds the quoted name on both databases.
    quoted = f'%"{event_type}"%' if isinstance(event_type, str) else literal('%"') + event_type + literal('"%')
    return (
        (col(WebhookSubscriber.status) != "deleted")
        & cast(col(WebhookSubscriber.events), String).like(quoted)
        & or_(col(WebhookSubscriber.campaign_id).is_(None), col(WebhookSubscriber.campaign_id) == campaign_id)
    )


async def record_event(
    session: AsyncSession, event_type: str, *, campaign_id: int, facts: Mapping[str, Any], now: datetime
) -> None:
    """Write the event in the caller's transaction when a subscriber wants it; else nothing."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    wanted = exists(select(literal(1)).where(wanted_by(event_type, campaign_id)))
    row = select(
        literal(new_message_id()),
        literal(event_type),
        literal(campaign_id),
        literal(dict(facts), WebhookEvent.__table__.c.facts.type),  # type: ignore[attr-defined]
        null(),
        literal(now, UtcDateTime()),
    ).where(wanted)
    columns = ["message_id", "type", "campaign_id", "facts", "payload", "created_at"]
    await session.execute(insert(WebhookEvent).from_select(columns, row))
