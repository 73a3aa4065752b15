"""Outgoing webhooks end to end on both databases: events written with their facts, fanned out, posted
to a loopback subscriber over a real socket, signed (checked with `standardwebhooks` and with a verifier
written from the docs), retried with backoff on the injected clock, paused when failing for good."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import col
from standardwebhooks import Webhook

from outreach.bootstrap import Services
from outreach.campaigns.commands import pause_campaign
from storage.webhook_deliveries import DeliveryRepository
from storage.webhook_tables import WebhookDelivery, WebhookEvent, WebhookSubscriber
from tests.conftest import ManualClock
from tests.factories import add_resident
from tests.outreach.helpers import launch, reply
from tests.outreach.webhooks_out.docs_verifier import verify
from tests.outreach.webhooks_out.helpers import OPERATOR, subscribe
from tests.outreach.webhooks_out.subscriber import LoopbackSubscriber

ALL_EVENTS = ["response.created", "conversation.completed", "campaign.status_changed"]


async def count(services: Services, table: Any) -> int:
    async with services.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(table))).scalar_one())


async def consultation(services: Services) -> int:
    """Two residents: one answers both questions, one says no (the flow ends); both complete."""
    await add_resident(services, phone="+48600100201", district="Orunia", age_band="30-44", phone_model="x")
    await add_resident(services, phone="+48600100202", district="Oliwa")
    campaign_id = await launch(services)
    await reply(services, "+48600100201", "tak")
    await reply(services, "+48600100201", "codziennie")
    await reply(services, "+48600100202", "nie")
    return campaign_id


async def test_a_subscriber_that_fails_then_recovers_gets_every_event_once_verified(
    services: Services, clock: ManualClock
) -> None:
    async with LoopbackSubscriber(failures=2) as subscriber:
        made = await subscribe(services, subscriber, events=ALL_EVENTS)
        assert made.secret.startswith("whsec_")
        campaign_id = await consultation(services)
        await pause_campaign(services.sessions, str(campaign_id), clock=clock)
        # launched (draft -> active), 3 answers, 2 completions, paused (active -> paused)
        assert await count(services, WebhookEvent) == 7

        await services.webhooks.round()  # fans out and posts 7: the first two fail
        assert len(subscriber.posts) == 7
        await services.webhooks.round()  # the failed two are not due yet
        assert len(subscriber.posts) == 7
        clock.advance(seconds=services.settings.webhooks_backoff_seconds)
        await services.webhooks.round()
        assert len(subscriber.posts) == 9

    delivered = subscriber.delivered()
    ids = Counter(post.headers["webhook-id"] for post in delivered)
    assert len(ids) == 7 and set(ids.values()) == {1}
    retried = {post.headers["webhook-id"] for post in subscriber.posts[:2]}
    assert retried <= set(ids)  # the same webhook-id on the retry
    webhook = Webhook(made.secret)
    for post in subscriber.posts:
        assert webhook.verify(post.body, post.headers)  # the reference library, wall time
        verify(made.secret, post.headers, post.body)  # and the docs' own recipe
    payloads = [json.loads(post.body) for post in delivered]
    assert Counter(payload["type"] for payload in payloads) == {
        "response.created": 3,
        "conversation.completed": 2,
        "campaign.status_changed": 2,
    }
    answer = next(p for p in payloads if p["type"] == "response.created" and p["data"]["question"] == "frequency")
    data = answer["data"]
    assert data["value"] == "daily" and data["channel"] == "sms"
    assert data["attributes"] == {"district": "Orunia", "age_band": "30-44", "sex": None}  # phone_model: not allowed
    assert len(data["respondent"]) >= 16 and data["answered_at"].endswith(":00:00Z")  # to the hour
    bodies = b"".join(post.body for post in subscriber.posts)
    assert b"+48600100201" not in bodies and b"600100201" not in bodies
    changes = [p["data"] for p in payloads if p["type"] == "campaign.status_changed"]
    assert sorted((change["from"], change["to"]) for change in changes) == [("active", "paused"), ("draft", "active")]


async def test_no_subscriber_means_no_events_written(services: Services) -> None:
    await consultation(services)
    assert await count(services, WebhookEvent) == 0


async def test_a_campaign_filter_and_event_choice_narrow_what_is_sent(services: Services) -> None:
    async with LoopbackSubscriber() as subscriber:
        other = await launch(services)  # before any subscriber: nothing for it
        await subscribe(services, subscriber, events=["campaign.status_changed"], campaign_id=other)
        await consultation(services)  # another campaign: its events are not this subscriber's
        await pause_campaign(services.sessions, str(other), clock=services.clock)
        await services.webhooks.drain()
    payloads = [json.loads(post.body) for post in subscriber.posts]
    assert [(p["type"], p["data"]["campaign"]["id"], p["data"]["to"]) for p in payloads] == [
        ("campaign.status_changed", other, "paused")
    ]


async def test_a_subscriber_failing_again_and_again_is_paused_with_the_reason(
    services: Services, clock: ManualClock
) -> None:
    async with LoopbackSubscriber(failures=None) as subscriber:
        made = await subscribe(services, subscriber, events=["response.created"])
        await consultation(services)  # three answers
        for _ in range(3):
            await services.webhooks.round()
            clock.advance(hours=1)
        posts = len(subscriber.posts)
        await services.webhooks.round()
        assert len(subscriber.posts) == posts  # paused: nothing more is posted
    async with services.sessions() as session:
        stored = await session.get(WebhookSubscriber, made.subscriber.id)
        assert stored is not None and stored.status == "paused"
        assert stored.paused_because is not None and "HTTP 500" in stored.paused_because
        statuses = Counter((await session.execute(select(col(WebhookDelivery.status)))).scalars())
    assert posts == 6 and statuses == {"pending": 3}  # two attempts each; the fourth failure paused it


async def test_resumed_and_replayed_deliveries_arrive_under_their_first_webhook_id(
    services: Services, clock: ManualClock
) -> None:
    async with LoopbackSubscriber(failures=None) as subscriber:
        made = await subscribe(services, subscriber, events=["campaign.status_changed"])
        assert made.subscriber.id is not None
        await launch(services)
        for _ in range(3):  # max attempts 3: given up
            await services.webhooks.round()
            clock.advance(hours=7)
        first_id = subscriber.posts[0].headers["webhook-id"]
        subscriber.failures = 0  # the subscriber is mended
        subscriber.posts.clear()
        assert await services.subscriptions.replay_failed(OPERATOR, made.subscriber.id) == 1
        await services.webhooks.drain()
    assert [post.headers["webhook-id"] for post in subscriber.delivered()] == [first_id]


async def test_a_claim_whose_worker_died_is_posted_again_after_its_lease(
    services: Services, clock: ManualClock
) -> None:
    async with LoopbackSubscriber() as subscriber:
        await subscribe(services, subscriber, events=["campaign.status_changed"])
        await launch(services)
        await services.webhooks.fan_out()
        async with services.sessions() as session, session.begin():
            lease = timedelta(minutes=1)
            taken = await DeliveryRepository(session).claim("dead-worker", now=clock(), lease=lease, limit=10)
        assert len(taken) == 1
        await services.webhooks.round()
        assert subscriber.posts == []  # held by the other worker's lease
        clock.advance(minutes=2)
        await services.webhooks.round()
    assert len(subscriber.delivered()) == 1


async def test_a_defect_while_posting_fails_the_delivery_visibly_and_the_worker_goes_on(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with LoopbackSubscriber() as subscriber:
        await subscribe(services, subscriber, events=["campaign.status_changed"])
        await launch(services)

        def broken(*_: object) -> dict[str, str]:
            raise RuntimeError("a bug of ours")

        monkeypatch.setattr("outreach.webhooks_out.deliverer.signed_headers", broken)
        assert await services.webhooks.round() == 2  # one event fanned out, one delivery attempted
    async with services.sessions() as session:
        (delivery,) = (await session.execute(select(WebhookDelivery))).scalars()
    assert (delivery.status, delivery.last_error) == ("pending", "internal error (RuntimeError)")
    assert subscriber.posts == []
