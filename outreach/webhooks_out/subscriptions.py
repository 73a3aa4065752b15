"""What admins do with webhook subscribers, for the API and the CLI alike: subscribe (the URL checked,
the secret made and shown once), rotate the secret, resume a paused subscriber, unsubscribe, replay.
Each is recorded in the audit log, in its own transaction, with who did it (never the secret).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from aiohttp.abc import AbstractResolver
from sqlalchemy.ext.asyncio import AsyncSession

from outreach import audit
from outreach.audit import Actor
from outreach.clock import Clock
from outreach.settings import Settings
from outreach.webhooks_out.addresses import RefusedAddress, check_destination
from outreach.webhooks_out.signing import new_secret
from outreach.webhooks_out.subscription_errors import SubscriptionError
from storage.db import SessionFactory
from storage.tables import CampaignRecord
from storage.webhook_deliveries import DeliveryRepository
from storage.webhook_events import EVENT_TYPES
from storage.webhook_subscribers import SubscriberRepository
from storage.webhook_tables import WebhookSubscriber


@dataclass(frozen=True)
class WithSecret:
    subscriber: WebhookSubscriber
    secret: str  # shown this once; the service signs with it and never shows it again


@dataclass
class Subscriptions:
    sessions: SessionFactory
    settings: Settings
    clock: Clock
    resolver: AbstractResolver | None = None  # DNS beneath the public-address check (tests)

    async def subscribe(
        self,
        actor: Actor,
        *,
        url: str,
        events: Sequence[str],
        campaign_id: int | None = None,
        description: str = "",
        created_by: int | None = None,
    ) -> WithSecret:
        unknown = sorted(set(events) - set(EVENT_TYPES))
        if unknown or not events:
            raise SubscriptionError("invalid", f"events are {', '.join(EVENT_TYPES)}; not {', '.join(unknown)}")
        settings = self.settings
        try:
            await check_destination(
                url,
                allow_http=settings.webhooks_allow_http,
                allow_private=settings.webhooks_allow_private,
                resolver=self.resolver,
            )
        except RefusedAddress as refused:
            raise SubscriptionError("invalid", f"the URL is refused: {refused}") from None
        secret = new_secret()
        async with self.sessions() as session, session.begin():
            if campaign_id is not None and await session.get(CampaignRecord, campaign_id) is None:
                raise SubscriptionError("not_found", f"no campaign {campaign_id}")
            subscriber = await SubscriberRepository(session).add(
                url=url,
                events=events,
                secret=secret,
                now=self.clock(),
                campaign_id=campaign_id,
                description=description,
                created_by=created_by,
            )
            details: dict[str, audit.DetailValue] = {"events": sorted(set(events)), "campaign_id": campaign_id}
            await self._audit(session, actor, audit.WEBHOOK_SUBSCRIBE, subscriber.id, details)
        return WithSecret(subscriber, secret)

    async def rotate(self, actor: Actor, subscriber_id: int) -> WithSecret:
        """A new secret; the old one keeps signing beside it for the overlap the settings give."""
        secret = new_secret()
        overlap = timedelta(hours=self.settings.webhooks_secret_overlap_hours)
        async with self.sessions() as session, session.begin():
            subscribers = SubscriberRepository(session)
            subscriber = await self._get(subscribers, subscriber_id)
            await subscribers.rotate(subscriber, secret, overlap_until=self.clock() + overlap)
            await self._audit(session, actor, audit.WEBHOOK_ROTATE, subscriber_id)
        return WithSecret(subscriber, secret)

    async def resume(self, actor: Actor, subscriber_id: int) -> WebhookSubscriber:
        async with self.sessions() as session, session.begin():
            subscribers = SubscriberRepository(session)
            subscriber = await self._get(subscribers, subscriber_id)
            await subscribers.resume(subscriber)
            await self._audit(session, actor, audit.WEBHOOK_RESUME, subscriber_id)
        return subscriber

    async def unsubscribe(self, actor: Actor, subscriber_id: int) -> WebhookSubscriber:
        async with self.sessions() as session, session.begin():
            subscribers = SubscriberRepository(session)
            subscriber = await self._get(subscribers, subscriber_id)
            await subscribers.delete(subscriber)
            await self._audit(session, actor, audit.WEBHOOK_UNSUBSCRIBE, subscriber_id)
        return subscriber

    async def replay(self, actor: Actor, delivery_id: int, *, subscriber_id: int | None = None) -> None:
        """Post one delivery again, whatever its outcome was (same webhook-id, fresh signature)."""
        async with self.sessions() as session, session.begin():
            deliveries = DeliveryRepository(session)
            if not await deliveries.replay(delivery_id, subscriber_id=subscriber_id, now=self.clock()):
                found = await deliveries.get(delivery_id)
                if found is None or (subscriber_id is not None and found.subscriber_id != subscriber_id):
                    raise SubscriptionError("not_found", f"no delivery {delivery_id}")
                raise SubscriptionError("conflict", f"delivery {delivery_id} is being posted right now")
            await audit.record(session, actor, audit.WEBHOOK_REPLAY, "webhook_delivery", delivery_id, at=self.clock())

    async def replay_failed(self, actor: Actor, subscriber_id: int) -> int:
        """Every failed delivery of the subscriber again; how many."""
        async with self.sessions() as session, session.begin():
            await self._get(SubscriberRepository(session), subscriber_id)
            replayed = await DeliveryRepository(session).replay_failed(subscriber_id, now=self.clock())
            await self._audit(session, actor, audit.WEBHOOK_REPLAY, subscriber_id, {"failed_replayed": replayed})
        return replayed

    async def _audit(
        self,
        session: AsyncSession,
        actor: Actor,
        action: str,
        subscriber_id: int | None,
        details: dict[str, audit.DetailValue] | None = None,
    ) -> None:
        await audit.record(session, actor, action, "webhook_subscriber", subscriber_id, details, at=self.clock())

    @staticmethod
    async def _get(subscribers: SubscriberRepository, subscriber_id: int) -> WebhookSubscriber:
        subscriber = await subscribers.get(subscriber_id)
        if subscriber is None:
            raise SubscriptionError("not_found", f"no webhook subscriber {subscriber_id}")
        return subscriber
