"""What retention removes, a bounded batch at a time (outreach.rights.retention runs the batches,
each in a transaction of its own, until none is left).

- `inbound`: the text of messages residents sent and kept mail bodies, older than the cut-off (the
  event row stays, blank: it still says a message came, and keeps a provider's retry from counting twice);
- `unknown_senders`: messages from addresses no resident has (strangers, spam), deleted whole;
- `outbox`: the texts of messages that are done (sent, failed, cancelled), blanked;
- `early_reports`: delivery reports whose send was never recorded, deleted;
- `webhooks_delivered`, `webhooks_failed`: outgoing webhook events fanned out whose every delivery is
  settled (delivered, or failed for good: `webhooks_failed` when any failed), deleted with their
  deliveries; a delivery still due (pending, being posted, or waiting for a paused subscriber) keeps
  its event, one to a deleted subscriber does not;
- `raw_text`: free-text answers, replaced by their scrubbed form (outreach.rights.raw_text pages
  through them itself: scrubbing is Python's, not SQL's; storage.free_text_answers);
- `inactive`: residents with no consent given or renewed, no answer and no message from them since the
  cut-off (erased whole by the caller, as an erasure request would: storage.erasure).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, delete, exists, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.tables import ContactAddress, EarlyDeliveryReport, InboundEvent, OutboxMessage, Resident, Response
from storage.webhook_tables import WebhookDelivery, WebhookEvent, WebhookSubscriber

# Messages whose text nobody reads again: a queued, held or sending one is still to go, and an
# unknown one may be resent by reconciliation.
DONE_STATUSES = ("sent", "failed", "cancelled")


class Kind(StrEnum):
    INBOUND = "inbound"
    UNKNOWN_SENDERS = "unknown_senders"
    OUTBOX = "outbox"
    EARLY_REPORTS = "early_reports"
    WEBHOOKS_DELIVERED = "webhooks_delivered"
    WEBHOOKS_FAILED = "webhooks_failed"
    INACTIVE = "inactive"
    RAW_TEXT = "raw_text"


def _due(kind: Kind, before: datetime) -> Select[*tuple[Any, ...]]:
    """The keys of what is due, oldest first."""
    if kind is Kind.RAW_TEXT:
        raise ValueError("free-text answers are scrubbed by outreach.rights.raw_text, not removed here")
    if kind is Kind.INBOUND:
        return (
            select(col(InboundEvent.id))
            .where(col(InboundEvent.contact_id).is_not(None))
            .where(col(InboundEvent.received_at) < before)
            .where(or_(col(InboundEvent.text) != "", col(InboundEvent.full_text).is_not(None)))
            .order_by(col(InboundEvent.id))
        )
    if kind is Kind.UNKNOWN_SENDERS:
        return (
            select(col(InboundEvent.id))
            .where(col(InboundEvent.contact_id).is_(None))
            .where(col(InboundEvent.received_at) < before)
            .order_by(col(InboundEvent.id))
        )
    if kind is Kind.OUTBOX:
        return (
            select(col(OutboxMessage.id))
            .where(col(OutboxMessage.status).in_(DONE_STATUSES))
            .where(col(OutboxMessage.created_at) < before)
            .where(col(OutboxMessage.text) != "")
            .order_by(col(OutboxMessage.id))
        )
    if kind is Kind.EARLY_REPORTS:
        return (
            select(col(EarlyDeliveryReport.channel), col(EarlyDeliveryReport.provider_id))
            .where(col(EarlyDeliveryReport.received_at) < before)
            .order_by(col(EarlyDeliveryReport.received_at))
        )
    if kind in (Kind.WEBHOOKS_DELIVERED, Kind.WEBHOOKS_FAILED):
        return _settled_webhook_events(before, failed=kind is Kind.WEBHOOKS_FAILED)
    return _inactive(before)


def _settled_webhook_events(before: datetime, *, failed: bool) -> Select[*tuple[Any, ...]]:
    delivery = WebhookDelivery
    still_due = (
        select(col(delivery.id))
        .join(WebhookSubscriber, col(WebhookSubscriber.id) == col(delivery.subscriber_id))
        .where(col(delivery.event_id) == col(WebhookEvent.id))
        .where(col(delivery.status).in_(("pending", "delivering")))
        .where(col(WebhookSubscriber.status) != "deleted")
    )
    a_failure = (
        select(col(delivery.id))
        .where(col(delivery.event_id) == col(WebhookEvent.id))
        .where(col(delivery.status) == "failed")
    )
    return (
        select(col(WebhookEvent.id))
        .where(col(WebhookEvent.fanned_out_at).is_not(None))
        .where(col(WebhookEvent.created_at) < before)
        .where(~exists(still_due))
        .where(exists(a_failure) if failed else ~exists(a_failure))
        .order_by(col(WebhookEvent.id))
    )


def _inactive(before: datetime) -> Select[*tuple[Any, ...]]:
    contact = ContactAddress
    recent_contact = (
        select(col(contact.id))
        .where(col(contact.resident_id) == col(Resident.id))
        .where(
            or_(
                col(contact.consent_at) >= before,
                col(contact.last_inbound_at) >= before,
                col(contact.created_at) >= before,
            )
        )
    )
    recent_answer = (
        select(col(Response.id))
        .where(col(Response.resident_id) == col(Resident.id))
        .where(col(Response.answered_at) >= before)
    )
    return (
        select(col(Resident.id))
        .where(col(Resident.erased_at).is_(None))  # an erasure's stand-in holds only anonymous answers
        .where(col(Resident.created_at) < before)
        .where(col(Resident.updated_at) < before)
        .where(~exists(recent_contact))
        .where(~exists(recent_answer))
        .order_by(col(Resident.id))
    )


async def count_due(session: AsyncSession, kind: Kind, before: datetime) -> int:
    due = _due(kind, before).order_by(None).subquery()
    return int((await session.execute(select(func.count()).select_from(due))).scalar_one())


async def due_keys(session: AsyncSession, kind: Kind, before: datetime, limit: int) -> list[Any]:
    rows = (await session.execute(_due(kind, before).limit(limit))).all()
    return [row[0] if len(row) == 1 else tuple(row) for row in rows]


async def remove(session: AsyncSession, kind: Kind, keys: list[Any]) -> int:
    """Remove a batch of `due_keys` (not `inactive`: residents are erased by the caller)."""
    if not keys:
        return 0
    if kind is Kind.INBOUND:
        await session.execute(
            update(InboundEvent).where(col(InboundEvent.id).in_(keys)).values(text="", full_text=None)
        )
    elif kind is Kind.UNKNOWN_SENDERS:
        await session.execute(
            update(Response).where(col(Response.inbound_event_id).in_(keys)).values(inbound_event_id=None)
        )
        await session.execute(delete(InboundEvent).where(col(InboundEvent.id).in_(keys)))
    elif kind is Kind.OUTBOX:
        await session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id).in_(keys))
            .values(text="", choices=[], template=None, error_detail=None)
        )
    elif kind in (Kind.WEBHOOKS_DELIVERED, Kind.WEBHOOKS_FAILED):
        await session.execute(delete(WebhookDelivery).where(col(WebhookDelivery.event_id).in_(keys)))
        await session.execute(delete(WebhookEvent).where(col(WebhookEvent.id).in_(keys)))
    elif kind is Kind.EARLY_REPORTS:
        await session.execute(
            delete(EarlyDeliveryReport).where(
                tuple_(col(EarlyDeliveryReport.channel), col(EarlyDeliveryReport.provider_id)).in_(keys)
            )
        )
    else:
        raise ValueError("inactive residents are erased, not removed here")
    return len(keys)
