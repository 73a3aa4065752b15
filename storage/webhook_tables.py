"""The tables of outgoing webhooks: who subscribed, the events the service produced, and each event's
delivery to each subscriber (revision 0021).

An event row is written in the transaction that made its fact (an answer stored, a conversation
completed, a campaign's status changed), so a crash loses none; the delivery worker fans it out to the
subscribers and posts it. Events hold ids, not personal data: the payload is built at fan-out from the
stored answer (pseudonymous respondent, allowlisted attributes) and kept, so every retry posts the same
body under the same webhook-id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UtcDateTime

WEBHOOK_URL_LENGTH = 2000
WEBHOOK_REASON_LENGTH = 300


class WebhookSubscriber(SQLModel, table=True):
    """A system that gets events posted: its URL, the events it wants, and its signing secrets."""

    __tablename__ = "webhook_subscribers"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=WEBHOOK_URL_LENGTH)
    events: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    campaign_id: int | None = Field(default=None, foreign_key="campaigns.id")  # only this campaign's events
    description: str = Field(default="", max_length=200)
    # whsec_ + base64 of the key (Standard Webhooks); shown once when made. During a rotation the
    # previous one signs too, until previous_secret_until.
    secret: str = Field(max_length=100)
    previous_secret: str | None = Field(default=None, max_length=100)
    previous_secret_until: datetime | None = Field(default=None, sa_type=UtcDateTime)
    status: str = Field(default="active", max_length=16)  # active, paused, deleted
    paused_because: str | None = Field(default=None, max_length=WEBHOOK_REASON_LENGTH)
    failures_in_a_row: int = 0  # failed attempts since the last success: too many pause it
    created_at: datetime = Field(sa_type=UtcDateTime)
    created_by: int | None = Field(default=None)  # the API token that made it (None: the CLI)


class WebhookEvent(SQLModel, table=True):
    """A fact other systems may be told of; `facts` holds ids and states only, never personal data."""

    __tablename__ = "webhook_events"
    __table_args__ = (
        Index("ix_webhook_events_unfanned", "fanned_out_at", "id"),
        Index("ix_webhook_events_campaign_type", "campaign_id", "type"),  # an erasure's search (0028)
    )

    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(max_length=40, unique=True)  # the webhook-id header: msg_ + random
    type: str = Field(max_length=40)  # response.created, conversation.completed, campaign.status_changed
    campaign_id: int = Field(foreign_key="campaigns.id")
    facts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    payload: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON(none_as_null=True), nullable=True))
    created_at: datetime = Field(sa_type=UtcDateTime)
    fanned_out_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class WebhookDelivery(SQLModel, table=True):
    """One event to one subscriber: claimed with a lease, retried with backoff, at least once."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "subscriber_id", name="uq_webhook_delivery_once"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_subscriber", "subscriber_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="webhook_events.id")
    subscriber_id: int = Field(foreign_key="webhook_subscribers.id")
    status: str = Field(max_length=16)  # pending, delivering, delivered, failed
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UtcDateTime)
    claimed_by: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=WEBHOOK_REASON_LENGTH)
    created_at: datetime = Field(sa_type=UtcDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
