"""The webhook subscriber endpoints of /api/v1 (admin tokens only): subscribe (the secret shown once),
list with why a subscriber is paused, rotate the secret, resume, list deliveries and failures, replay,
unsubscribe. The work is `outreach.webhooks_out.subscriptions`, shared with the CLI."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

from outreach.web.api.errors import ApiError
from outreach.web.api.registry import ApiHandler, ApiRoute, Call
from outreach.web.api.webhook_models import (
    DeliveriesQuery,
    DeliveryInfo,
    DeliveryPage,
    IssuedSubscriber,
    Replayed,
    SubscriberInfo,
    SubscriberList,
    SubscriberRequest,
)
from outreach.webhooks_out.subscription_errors import SubscriptionError
from outreach.webhooks_out.subscriptions import WithSecret
from storage.db import read_session
from storage.webhook_deliveries import DeliveryRepository, DeliveryRow
from storage.webhook_subscribers import SubscriberRepository
from storage.webhook_tables import WebhookSubscriber

T = TypeVar("T")
_STATUS = {"not_found": 404, "invalid": 422, "conflict": 409}


async def _done(work: Awaitable[T]) -> T:
    try:
        return await work
    except SubscriptionError as refused:
        raise ApiError(_STATUS[refused.kind], refused.kind, refused.message) from None


def subscriber_info(subscriber: WebhookSubscriber) -> SubscriberInfo:
    assert subscriber.id is not None
    return SubscriberInfo(
        id=subscriber.id,
        url=subscriber.url,
        events=list(subscriber.events),
        campaign_id=subscriber.campaign_id,
        description=subscriber.description,
        status=subscriber.status,
        paused_because=subscriber.paused_because,
        failures_in_a_row=subscriber.failures_in_a_row,
        rotation_overlap_until=subscriber.previous_secret_until,
        created_at=subscriber.created_at,
    )


def _issued(made: WithSecret) -> IssuedSubscriber:
    return IssuedSubscriber(**subscriber_info(made.subscriber).model_dump(), secret=made.secret)


def delivery_info(row: DeliveryRow) -> DeliveryInfo:
    return DeliveryInfo(
        id=row.id,
        subscriber_id=row.subscriber_id,
        webhook_id=row.message_id,
        event_type=row.event_type,
        campaign_id=row.campaign_id,
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        created_at=row.created_at,
        delivered_at=row.delivered_at,
    )


async def create_subscriber(call: Call) -> IssuedSubscriber:
    request = call.body_as(SubscriberRequest)
    assert call.token is not None
    made = await _done(
        call.services.subscriptions.subscribe(
            call.actor,
            url=request.url,
            events=request.events,
            campaign_id=request.campaign_id,
            description=request.description,
            created_by=call.token.id,
        )
    )
    return _issued(made)


async def list_subscribers(call: Call) -> SubscriberList:
    async with read_session(call.services.sessions) as session:
        subscribers = await SubscriberRepository(session).all()
    return SubscriberList(data=[subscriber_info(subscriber) for subscriber in subscribers])


async def rotate_secret(call: Call) -> IssuedSubscriber:
    return _issued(await _done(call.services.subscriptions.rotate(call.actor, call.path_ids["subscriber_id"])))


async def resume_subscriber(call: Call) -> SubscriberInfo:
    return subscriber_info(await _done(call.services.subscriptions.resume(call.actor, call.path_ids["subscriber_id"])))


async def delete_subscriber(call: Call) -> SubscriberInfo:
    return subscriber_info(
        await _done(call.services.subscriptions.unsubscribe(call.actor, call.path_ids["subscriber_id"]))
    )


async def list_deliveries(call: Call) -> DeliveryPage:
    query = call.query_as(DeliveriesQuery)
    subscriber_id = call.path_ids["subscriber_id"]
    async with read_session(call.services.sessions) as session:
        if await SubscriberRepository(session).get(subscriber_id) is None:
            raise ApiError(404, "not_found", f"no webhook subscriber {subscriber_id}")
        rows = await DeliveryRepository(session).page(
            subscriber_id, status=query.status, before=query.before, limit=query.limit + 1
        )
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    return DeliveryPage(data=[delivery_info(row) for row in rows], next_before=rows[-1].id if more else None)


async def replay_failed(call: Call) -> Replayed:
    return Replayed(
        replayed=await _done(call.services.subscriptions.replay_failed(call.actor, call.path_ids["subscriber_id"]))
    )


async def replay_delivery(call: Call) -> DeliveryInfo:
    delivery_id = call.path_ids["delivery_id"]
    await _done(call.services.subscriptions.replay(call.actor, delivery_id))
    async with read_session(call.services.sessions) as session:
        row = await DeliveryRepository(session).get(delivery_id)
    assert row is not None
    return delivery_info(row)


SUBSCRIBER_EXAMPLE = {
    "url": "https://hooks.example.org/outreach",
    "events": ["response.created", "conversation.completed"],
    "description": "open-data portal",
}
_HOOKS = "/webhooks/subscribers"
_ONE = _HOOKS + "/{subscriber_id}"


def _admin(method: str, path: str, handler: ApiHandler, operation: str, summary: str, **more: Any) -> ApiRoute:
    """An admin route of the webhooks tag, not for a token bound to one campaign."""
    return ApiRoute(method, path, handler, operation, summary, "webhooks", scope="admin", unbound_only=True, **more)


# Unsubscribing is last: the document lists it last, so a run through the operations in order (the
# schemathesis test) meets every other one while the subscriber still exists.
WEBHOOK_SUBSCRIPTION_ROUTES: list[ApiRoute] = [
    _admin(
        "GET", _HOOKS, list_subscribers, "listWebhookSubscribers", "List webhook subscribers", response=SubscriberList
    ),
    _admin(
        "POST",
        _HOOKS,
        create_subscriber,
        "createWebhookSubscriber",
        "Subscribe a URL to events",
        body=SubscriberRequest,
        body_example=SUBSCRIBER_EXAMPLE,
        response=IssuedSubscriber,
        status=201,
        extra_errors={404: "No campaign by that campaign_id."},
        description="The URL must be https:// and resolve to public addresses only. The signing secret is in"
        " this answer only. See docs/API.md, Receiving webhooks.",
    ),
    _admin(
        "POST",
        _ONE + "/secret",
        rotate_secret,
        "rotateWebhookSecret",
        "Rotate a subscriber's signing secret",
        response=IssuedSubscriber,
        description="The new secret is in this answer only; the previous one signs beside it until"
        " rotation_overlap_until.",
    ),
    _admin(
        "POST",
        _ONE + "/resume",
        resume_subscriber,
        "resumeWebhookSubscriber",
        "Resume a paused subscriber",
        response=SubscriberInfo,
    ),
    _admin(
        "GET",
        _ONE + "/deliveries",
        list_deliveries,
        "listWebhookDeliveries",
        "A subscriber's deliveries and failures, newest first",
        query=DeliveriesQuery,
        response=DeliveryPage,
    ),
    _admin(
        "POST",
        _ONE + "/replay-failed",
        replay_failed,
        "replayFailedWebhookDeliveries",
        "Queue every failed delivery of a subscriber again",
        response=Replayed,
    ),
    _admin(
        "POST",
        "/webhooks/deliveries/{delivery_id}/replay",
        replay_delivery,
        "replayWebhookDelivery",
        "Post a delivery again (same webhook-id, fresh signature)",
        response=DeliveryInfo,
        conflict="the delivery is being posted right now",
    ),
    _admin("DELETE", _ONE, delete_subscriber, "deleteWebhookSubscriber", "Unsubscribe", response=SubscriberInfo),
]
