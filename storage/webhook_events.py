"""Events for outgoing webhooks, written where their facts happen and in the same transaction.

One INSERT … SELECT per fact: it writes the event only while some subscriber (active or paused) wants
that type for that campaign, so a service nobody subscribed to writes nothing, and a paused
subscriber's events wait for it. Facts are ids and states, never personal data.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Table, bindparam, cast, delete, exists, insert, literal, null, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.statements import run
from storage.types import UtcDateTime

# Re-exported: where importers have always found them.
from storage.webhook_event_types import CAMPAIGN_STATUS_CHANGED as CAMPAIGN_STATUS_CHANGED
from storage.webhook_event_types import CONVERSATION_COMPLETED as CONVERSATION_COMPLETED
from storage.webhook_event_types import EVENT_TYPES as EVENT_TYPES
from storage.webhook_event_types import RESPONDENT_ERASED as RESPONDENT_ERASED
from storage.webhook_event_types import RESPONSE_CREATED as RESPONSE_CREATED
from storage.webhook_tables import WebhookDelivery, WebhookEvent, WebhookSubscriber


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
    parameters = {"message_id": new_message_id(), "campaign_id": campaign_id, "facts": dict(facts), "now": now}
    await run(session, _RECORD[event_type], parameters)


def _record(event_type: str) -> Any:
    """The INSERT … SELECT of one event type, built once (every stored answer runs it)."""
    events: Table = WebhookEvent.__table__  # type: ignore[attr-defined]
    campaign_id = bindparam("campaign_id", type_=Integer())
    row = select(
        bindparam("message_id", type_=String()),
        literal(event_type),
        campaign_id,
        bindparam("facts", type_=events.c.facts.type),
        null(),
        bindparam("now", type_=UtcDateTime()),
    ).where(exists(select(literal(1)).where(wanted_by(event_type, campaign_id))))
    columns = ["message_id", "type", "campaign_id", "facts", "payload", "created_at"]
    return insert(events).from_select(columns, row)


_RECORD = {event_type: _record(event_type) for event_type in EVENT_TYPES}


async def forget_respondent_events(
    session: AsyncSession,
    *,
    campaign_ids: Collection[int],
    response_ids: Collection[int],
    conversation_ids: Collection[int],
) -> int:
    """Delete the events about these answers and conversations, with their deliveries, whatever their
    state: an erasure's. A built payload names the old respondent with the answer and its attributes,
    and a replay (or a late first post) would hand them out again after the tombstone; one not built
    yet would publish the anonymised answer under its fresh id right after the tombstone, linking the
    two. `campaign_ids`: the campaigns they are in (the index that narrows the search). How many
    events went."""
    about = []
    if response_ids:
        response = col(WebhookEvent.facts)["response_id"].as_integer()
        about.append((col(WebhookEvent.type) == RESPONSE_CREATED) & response.in_(sorted(response_ids)))
    if conversation_ids:
        conversation = col(WebhookEvent.facts)["conversation_id"].as_integer()
        about.append((col(WebhookEvent.type) == CONVERSATION_COMPLETED) & conversation.in_(sorted(conversation_ids)))
    if not about or not campaign_ids:
        return 0
    event_ids = list(
        (
            await session.execute(
                select(col(WebhookEvent.id))
                .where(col(WebhookEvent.campaign_id).in_(sorted(campaign_ids)))
                .where(or_(*about))
            )
        ).scalars()
    )
    if event_ids:
        await session.execute(delete(WebhookDelivery).where(col(WebhookDelivery.event_id).in_(event_ids)))
        await session.execute(delete(WebhookEvent).where(col(WebhookEvent.id).in_(event_ids)))
    return len(event_ids)
