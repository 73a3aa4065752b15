"""Deliveries of webhook events: fanned out from events, claimed under a lease, recorded, replayed.

At least once: a claim holds a delivery until its lease runs out; a worker that died mid-post leaves
it to be claimed again (the receiver drops the duplicate by webhook-id). Two workers never hold one
delivery at once: PostgreSQL claims with FOR UPDATE SKIP LOCKED, SQLite in a BEGIN IMMEDIATE
transaction (storage.db), as the outbox does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import TextClause, bindparam, literal, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage import dialect
from storage.types import UtcDateTime
from storage.webhook_events import wanted_by
from storage.webhook_tables import WebhookDelivery, WebhookEvent, WebhookSubscriber


@dataclass(frozen=True)
class ClaimedDelivery:
    id: int
    subscriber_id: int
    url: str
    secrets: list[str]  # the current secret first, the previous one while the rotation overlaps
    message_id: str
    event_type: str
    payload: dict[str, Any]
    attempts: int  # this one included


@dataclass(frozen=True)
class DeliveryRow:
    """A delivery as admins list it."""

    id: int
    subscriber_id: int
    message_id: str
    event_type: str
    campaign_id: int
    status: str
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


_DUE = """
    SELECT d.id FROM webhook_deliveries d JOIN webhook_subscribers s ON s.id = d.subscriber_id
    WHERE s.status = 'active' AND (
        (d.status = 'pending' AND d.next_attempt_at <= :now)
        OR (d.status = 'delivering' AND d.lease_until <= :now))
    ORDER BY d.next_attempt_at, d.id
"""


def _claim(postgres: bool) -> TextClause:
    if postgres:
        sql = f"""
        WITH due AS MATERIALIZED ({_DUE} FOR UPDATE OF d SKIP LOCKED LIMIT :limit)
        UPDATE webhook_deliveries SET status = 'delivering', claimed_by = :worker, lease_until = :until,
                                      attempts = webhook_deliveries.attempts + 1
        FROM due WHERE webhook_deliveries.id = due.id
        RETURNING webhook_deliveries.id
        """
    else:
        sql = f"""
        UPDATE webhook_deliveries SET status = 'delivering', claimed_by = :worker, lease_until = :until,
                                      attempts = attempts + 1
        WHERE id IN ({_DUE} LIMIT :limit)
        RETURNING id
        """
    return text(sql).bindparams(bindparam("now", type_=UtcDateTime()), bindparam("until", type_=UtcDateTime()))


class DeliveryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def unfanned_events(self, limit: int) -> list[WebhookEvent]:
        """Events not yet given to their subscribers, oldest first, locked (SKIP LOCKED: two workers
        fan out different events)."""
        result = await self._session.execute(
            select(WebhookEvent)
            .where(col(WebhookEvent.fanned_out_at).is_(None))
            .order_by(col(WebhookEvent.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list(result.scalars())

    async def fan_out(self, payloads: Mapping[int, dict[str, Any] | None], *, now: datetime) -> None:
        """Keep each event's payload (by event id) and make a delivery for each subscriber that wanted
        the event when it happened (made before it, not deleted; paused ones too: theirs wait for the
        resume), set-based: two statements for the whole batch. A payload of None: nothing of the
        event may be published; it is marked done and goes nowhere."""
        if not payloads:
            return
        rows = [{"id": event_id, "payload": payload, "fanned_out_at": now} for event_id, payload in payloads.items()]
        await self._session.execute(update(WebhookEvent), rows)
        published = [event_id for event_id, payload in payloads.items() if payload is not None]
        if not published:
            return
        pairs = (
            select(
                col(WebhookEvent.id),
                col(WebhookSubscriber.id),
                literal("pending"),
                literal(0),
                literal(now, UtcDateTime()),
                literal(now, UtcDateTime()),
            )
            .select_from(WebhookEvent)
            .join(
                WebhookSubscriber,
                wanted_by(col(WebhookEvent.type), col(WebhookEvent.campaign_id))
                & (col(WebhookSubscriber.created_at) <= col(WebhookEvent.created_at)),
            )
            .where(col(WebhookEvent.id).in_(published))
        )
        columns = ["event_id", "subscriber_id", "status", "attempts", "next_attempt_at", "created_at"]
        statement = dialect.insert(self._session, WebhookDelivery).from_select(columns, pairs)
        await self._session.execute(statement.on_conflict_do_nothing(index_elements=["event_id", "subscriber_id"]))

    async def claim(self, worker: str, *, now: datetime, lease: timedelta, limit: int) -> list[ClaimedDelivery]:
        postgres = dialect.dialect_name(self._session) == "postgresql"
        claimed = await self._session.execute(
            _claim(postgres), {"now": now, "until": now + lease, "worker": worker, "limit": limit}
        )
        ids = [int(row_id) for row_id in claimed.scalars()]
        if not ids:
            return []
        rows = await self._session.execute(
            select(WebhookDelivery, WebhookEvent, WebhookSubscriber)
            .join(WebhookEvent, col(WebhookEvent.id) == col(WebhookDelivery.event_id))
            .join(WebhookSubscriber, col(WebhookSubscriber.id) == col(WebhookDelivery.subscriber_id))
            .where(col(WebhookDelivery.id).in_(ids))
            .order_by(col(WebhookDelivery.id))
        )
        return [_claimed(delivery, event, subscriber, now) for delivery, event, subscriber in rows.all()]

    async def delivered(self, delivery_ids: Sequence[int], worker: str, *, status_code: int, now: datetime) -> set[int]:
        """Recorded as delivered, those whose claim is still this worker's, in one statement; the
        subscribers they went to."""
        result = await self._session.execute(
            update(WebhookDelivery)
            .where(col(WebhookDelivery.id).in_(list(delivery_ids)))
            .where(col(WebhookDelivery.status) == "delivering")
            .where(col(WebhookDelivery.claimed_by) == worker)
            .values(status="delivered", last_status_code=status_code, last_error=None, delivered_at=now)
            .returning(col(WebhookDelivery.subscriber_id))
        )
        return set(result.scalars())

    async def attempt_failed(
        self, delivery_id: int, worker: str, *, status_code: int | None, error: str, retry_at: datetime | None
    ) -> bool:
        """Back to pending until `retry_at`, or failed for good when None; False when the claim is gone."""
        values: dict[str, Any] = {"last_status_code": status_code, "last_error": error[:300]}
        if retry_at is None:
            values["status"] = "failed"
        else:
            values |= {"status": "pending", "next_attempt_at": retry_at}
        result = await self._session.execute(
            self._held(delivery_id, worker).values(**values).returning(col(WebhookDelivery.id))
        )
        return result.scalar_one_or_none() is not None

    def _held(self, delivery_id: int, worker: str) -> Any:
        return (
            update(WebhookDelivery)
            .where(col(WebhookDelivery.id) == delivery_id)
            .where(col(WebhookDelivery.status) == "delivering")
            .where(col(WebhookDelivery.claimed_by) == worker)
        )

    async def replay(self, delivery_id: int, *, subscriber_id: int | None = None, now: datetime) -> bool:
        """Post the delivery again (same webhook-id, a fresh signature and attempt count). A delivery
        being posted right now is left to finish; False then, or when there is no such delivery."""
        statement = (
            update(WebhookDelivery)
            .where(col(WebhookDelivery.id) == delivery_id)
            .where(col(WebhookDelivery.status) != "delivering")
        )
        if subscriber_id is not None:
            statement = statement.where(col(WebhookDelivery.subscriber_id) == subscriber_id)
        result = await self._session.execute(
            statement.values(
                status="pending", attempts=0, next_attempt_at=now, claimed_by=None, lease_until=None
            ).returning(col(WebhookDelivery.id))
        )
        return result.scalar_one_or_none() is not None

    async def replay_failed(self, subscriber_id: int, *, now: datetime) -> int:
        """Every failed delivery of the subscriber again; how many."""
        result = await self._session.execute(
            update(WebhookDelivery)
            .where(col(WebhookDelivery.subscriber_id) == subscriber_id)
            .where(col(WebhookDelivery.status) == "failed")
            .values(status="pending", attempts=0, next_attempt_at=now, claimed_by=None, lease_until=None)
            .returning(col(WebhookDelivery.id))
        )
        return len(result.all())

    async def page(
        self, subscriber_id: int, *, status: str | None, before: int | None, limit: int
    ) -> list[DeliveryRow]:
        """The subscriber's deliveries, newest first, below the id `before` when given."""
        statement = (
            select(WebhookDelivery, WebhookEvent)
            .join(WebhookEvent, col(WebhookEvent.id) == col(WebhookDelivery.event_id))
            .where(col(WebhookDelivery.subscriber_id) == subscriber_id)
            .order_by(col(WebhookDelivery.id).desc())
            .limit(limit)
        )
        if status is not None:
            statement = statement.where(col(WebhookDelivery.status) == status)
        if before is not None:
            statement = statement.where(col(WebhookDelivery.id) < before)
        rows = await self._session.execute(statement)
        return [_row(delivery, event) for delivery, event in rows.all()]

    async def get(self, delivery_id: int) -> DeliveryRow | None:
        rows = await self._session.execute(
            select(WebhookDelivery, WebhookEvent)
            .join(WebhookEvent, col(WebhookEvent.id) == col(WebhookDelivery.event_id))
            .where(col(WebhookDelivery.id) == delivery_id)
        )
        found = rows.first()
        return None if found is None else _row(*found)


def _claimed(
    delivery: WebhookDelivery, event: WebhookEvent, subscriber: WebhookSubscriber, now: datetime
) -> ClaimedDelivery:
    assert delivery.id is not None and event.payload is not None
    secrets = [subscriber.secret]
    overlap = subscriber.previous_secret_until
    if subscriber.previous_secret and overlap is not None and overlap > now:
        secrets.append(subscriber.previous_secret)
    return ClaimedDelivery(
        id=delivery.id,
        subscriber_id=delivery.subscriber_id,
        url=subscriber.url,
        secrets=secrets,
        message_id=event.message_id,
        event_type=event.type,
        payload=event.payload,
        attempts=delivery.attempts,
    )


def _row(delivery: WebhookDelivery, event: WebhookEvent) -> DeliveryRow:
    assert delivery.id is not None
    return DeliveryRow(
        id=delivery.id,
        subscriber_id=delivery.subscriber_id,
        message_id=event.message_id,
        event_type=event.type,
        campaign_id=event.campaign_id,
        status=delivery.status,
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at,
        last_status_code=delivery.last_status_code,
        last_error=delivery.last_error,
        created_at=delivery.created_at,
        delivered_at=delivery.delivered_at,
    )
