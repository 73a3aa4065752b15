"""Webhook subscribers: registered, listed, paused and resumed, their secrets rotated, deleted."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.webhook_tables import WebhookSubscriber


class SubscriberRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(
        self,
        *,
        url: str,
        events: Sequence[str],
        secret: str,
        now: datetime,
        campaign_id: int | None = None,
        description: str = "",
        created_by: int | None = None,
    ) -> WebhookSubscriber:
        subscriber = WebhookSubscriber(
            url=url,
            events=sorted(set(events)),
            campaign_id=campaign_id,
            description=description,
            secret=secret,
            created_at=now,
            created_by=created_by,
        )
        self._session.add(subscriber)
        await self._session.flush()
        return subscriber

    async def get(self, subscriber_id: int) -> WebhookSubscriber | None:
        """A subscriber that is not deleted, locked for the caller's changes (PostgreSQL)."""
        result = await self._session.execute(
            select(WebhookSubscriber)
            .where(col(WebhookSubscriber.id) == subscriber_id)
            .where(col(WebhookSubscriber.status) != "deleted")
            .with_for_update()
        )
        subscriber: WebhookSubscriber | None = result.scalar_one_or_none()
        return subscriber

    async def all(self) -> list[WebhookSubscriber]:
        result = await self._session.execute(
            select(WebhookSubscriber)
            .where(col(WebhookSubscriber.status) != "deleted")
            .order_by(col(WebhookSubscriber.id))
        )
        return list(result.scalars())

    async def delete(self, subscriber: WebhookSubscriber) -> None:
        """Kept as a row (its deliveries name it) but never posted to again."""
        subscriber.status = "deleted"
        self._session.add(subscriber)
        await self._session.flush()

    async def rotate(self, subscriber: WebhookSubscriber, new_secret: str, *, overlap_until: datetime) -> None:
        """The new secret signs from now on; the one it replaces signs beside it until `overlap_until`."""
        subscriber.previous_secret = subscriber.secret
        subscriber.previous_secret_until = overlap_until
        subscriber.secret = new_secret
        self._session.add(subscriber)
        await self._session.flush()

    async def resume(self, subscriber: WebhookSubscriber) -> None:
        subscriber.status = "active"
        subscriber.paused_because = None
        subscriber.failures_in_a_row = 0
        self._session.add(subscriber)
        await self._session.flush()

    async def succeeded(self, subscriber_ids: Collection[int]) -> None:
        """A success ends their runs of failures."""
        await self._session.execute(
            update(WebhookSubscriber)
            .where(col(WebhookSubscriber.id).in_(list(subscriber_ids)))
            .where(col(WebhookSubscriber.failures_in_a_row) != 0)
            .values(failures_in_a_row=0)
        )

    async def failed(self, subscriber_id: int, *, reason: str, pause_after: int) -> bool:
        """Count a failed attempt; pause the subscriber (with the reason) at `pause_after` in a row.
        True when this failure paused it."""
        await self._session.execute(
            update(WebhookSubscriber)
            .where(col(WebhookSubscriber.id) == subscriber_id)
            .values(failures_in_a_row=WebhookSubscriber.failures_in_a_row + 1)
        )
        paused = await self._session.execute(
            update(WebhookSubscriber)
            .where(col(WebhookSubscriber.id) == subscriber_id)
            .where(col(WebhookSubscriber.status) == "active")
            .where(col(WebhookSubscriber.failures_in_a_row) >= pause_after)
            .values(
                status="paused",
                paused_because=f"{pause_after} failed attempts in a row; the last: {reason}"[:300],
            )
            .returning(col(WebhookSubscriber.id))
        )
        return paused.scalar_one_or_none() is not None
