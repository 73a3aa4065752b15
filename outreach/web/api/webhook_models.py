"""The pydantic models of the webhook subscriber endpoints of /api/v1 (outgoing webhooks)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from outreach.web.api.models import MAX_ID

# storage.webhook_events.EVENT_TYPES, spelled out for the schema (tests/outreach/web/api/test_webhook_subscribers.py).
EventType = Literal["response.created", "conversation.completed", "campaign.status_changed", "respondent.erased"]
DeliveryStatus = Literal["pending", "delivering", "delivered", "failed"]


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SubscriberRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        min_length=1,
        max_length=2000,
        pattern=r"^[^\x00-\x20]*$",
        description="Where events are posted: https:// (http only where the service allows it), a public address.",
    )
    events: list[EventType] = Field(min_length=1, max_length=len(get_args(EventType)))
    campaign_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="Only this campaign's events.")
    description: str = Field(default="", max_length=200, pattern=r"^[^\x00]*$")


class SubscriberInfo(_Out):
    id: int
    url: str
    events: list[str]
    campaign_id: int | None
    description: str
    status: str = Field(description="active, paused (failing: see paused_because) or deleted.")
    paused_because: str | None
    failures_in_a_row: int
    rotation_overlap_until: datetime | None = Field(
        description="While set and in the future, the previous secret signs beside the current one."
    )
    created_at: datetime


class SubscriberList(_Out):
    data: list[SubscriberInfo]


class IssuedSubscriber(SubscriberInfo):
    secret: str = Field(description="whsec_…: shown this once. Verify each delivery's signature with it.")


class DeliveriesQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: DeliveryStatus | None = None
    before: int | None = Field(default=None, ge=1, le=MAX_ID, description="`next_before` of the previous page.")
    limit: int = Field(default=100, ge=1, le=500)


class DeliveryInfo(_Out):
    id: int
    subscriber_id: int
    webhook_id: str = Field(description="The webhook-id header: the same on every attempt and replay.")
    event_type: str
    campaign_id: int
    status: str
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class DeliveryPage(_Out):
    data: list[DeliveryInfo]
    next_before: int | None = Field(description="Pass as `before` for older deliveries; null at the end.")


class Replayed(_Out):
    replayed: int = Field(description="How many deliveries were queued again.")
