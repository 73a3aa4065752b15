"""The webhook subscriber endpoints over a real socket, on both databases: subscribe with the secret
shown once, refusals (scope, http, private addresses, unknown campaign), a failing subscriber paused
with its reason, resumed and its failures replayed, a secret rotated with both signatures during the
overlap, one delivery replayed under its webhook-id, unsubscribe."""

from __future__ import annotations

import json
from typing import Any, get_args

from standardwebhooks import Webhook

from outreach.bootstrap import Services
from outreach.campaigns.commands import pause_campaign
from outreach.web.api.webhook_models import EventType
from storage.webhook_events import EVENT_TYPES
from tests.conftest import ManualClock
from tests.outreach.helpers import launch
from tests.outreach.web.api.conftest import AppClient
from tests.outreach.web.api.helpers import auth, draft
from tests.outreach.webhooks_out.docs_verifier import verify
from tests.outreach.webhooks_out.subscriber import LoopbackSubscriber

HOOKS = "/api/v1/webhooks/subscribers"


def allow_loopback(services: Services, **more: Any) -> None:
    """The subscriber is on this machine, over http: the settings tests may turn on."""
    for name, value in {"webhooks_allow_http": True, "webhooks_allow_private": True, **more}.items():
        object.__setattr__(services.settings, name, value)


async def test_only_admins_subscribe_and_the_url_must_be_https_and_public(api: AppClient, services: Services) -> None:
    reader = await auth(services, "responses:rows")
    body = {"url": "https://hooks.example.org/x", "events": ["response.created"]}
    assert (await api.post(HOOKS, json=body, headers=reader)).status == 403
    admin = await auth(services, "admin")
    http = await api.post(HOOKS, json=body | {"url": "http://hooks.example.org/x"}, headers=admin)
    assert http.status == 422 and "https://" in (await http.json())["error"]["message"]
    for private in ("https://127.0.0.1/x", "https://169.254.169.254/latest/meta-data", "https://[::1]:8443/"):
        refused = await api.post(HOOKS, json=body | {"url": private}, headers=admin)
        assert refused.status == 422, private
        assert "not a public address" in (await refused.json())["error"]["message"]
    unknown = await api.post(HOOKS, json=body | {"events": ["answer.deleted"]}, headers=admin)
    assert unknown.status == 422
    allow_loopback(services)
    missing = await api.post(HOOKS, json=body | {"url": "http://127.0.0.1:9/x", "campaign_id": 999}, headers=admin)
    assert missing.status == 404
    assert (await (await api.get(HOOKS, headers=admin)).json()) == {"data": []}


async def test_a_failing_subscriber_is_paused_with_its_reason_then_resumed_and_replayed(
    api: AppClient, services: Services, clock: ManualClock
) -> None:
    allow_loopback(services, webhooks_pause_after=2, webhooks_max_attempts=2)
    admin = await auth(services, "admin")
    async with LoopbackSubscriber(failures=None) as subscriber:
        created = await api.post(
            HOOKS, json={"url": subscriber.url, "events": ["campaign.status_changed"]}, headers=admin
        )
        assert created.status == 201
        made = await created.json()
        assert made["secret"].startswith("whsec_") and made["status"] == "active"
        subscriber.secrets = [made["secret"]]
        listed = (await (await api.get(HOOKS, headers=admin)).json())["data"]
        assert [entry["id"] for entry in listed] == [made["id"]] and "secret" not in listed[0]

        await launch(services)
        await services.webhooks.round()
        clock.advance(minutes=5)
        await services.webhooks.round()  # the second failure in a row: given up, and the subscriber paused
        (shown,) = (await (await api.get(HOOKS, headers=admin)).json())["data"]
        assert shown["status"] == "paused" and "HTTP 500" in shown["paused_because"]
        deliveries = await api.get(f"{HOOKS}/{made['id']}/deliveries?status=failed", headers=admin)
        (failed,) = (await deliveries.json())["data"]
        assert (
            failed["attempts"] == 2
            and failed["last_status_code"] == 500
            and failed["event_type"] == ("campaign.status_changed")
        )

        subscriber.failures = 0  # mended
        resumed = await api.post(f"{HOOKS}/{made['id']}/resume", headers=admin)
        assert (await resumed.json())["status"] == "active"
        replayed = await api.post(f"{HOOKS}/{made['id']}/replay-failed", headers=admin)
        assert (await replayed.json()) == {"replayed": 1}
        await services.webhooks.drain()
        page = await (await api.get(f"{HOOKS}/{made['id']}/deliveries", headers=admin)).json()
        assert [(entry["status"], entry["webhook_id"]) for entry in page["data"]] == [
            ("delivered", failed["webhook_id"])
        ]
        assert [post.headers["webhook-id"] for post in subscriber.delivered()] == [failed["webhook_id"]]


async def test_a_rotated_secret_signs_beside_the_old_one_during_the_overlap(
    api: AppClient, services: Services, clock: ManualClock
) -> None:
    allow_loopback(services)
    admin = await auth(services, "admin")
    async with LoopbackSubscriber() as subscriber:
        made = await (
            await api.post(HOOKS, json={"url": subscriber.url, "events": ["campaign.status_changed"]}, headers=admin)
        ).json()
        rotated = await (await api.post(f"{HOOKS}/{made['id']}/secret", headers=admin)).json()
        assert rotated["secret"] != made["secret"] and rotated["rotation_overlap_until"] is not None
        subscriber.secrets = [rotated["secret"]]  # signs every post; the old one only during the overlap
        campaign_id = await launch(services)
        await services.webhooks.drain()
        clock.advance(hours=services.settings.webhooks_secret_overlap_hours + 1)
        await pause_campaign(services.sessions, str(campaign_id), clock=clock)
        await services.webhooks.drain()
    during, after = subscriber.posts
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    for secret in (made["secret"], rotated["secret"]):
        assert Webhook(secret).verify(during.body, during.headers)
        verify(secret, during.headers, during.body)
    assert len(after.headers["webhook-signature"].split(" ")) == 1  # the overlap is over
    assert Webhook(rotated["secret"]).verify(after.body, after.headers)


async def test_a_delivery_replayed_arrives_again_under_its_webhook_id_and_unsubscribing_stops_posts(
    api: AppClient, services: Services
) -> None:
    allow_loopback(services)
    admin = await auth(services, "admin")
    async with LoopbackSubscriber() as subscriber:
        made = await (
            await api.post(HOOKS, json={"url": subscriber.url, "events": ["campaign.status_changed"]}, headers=admin)
        ).json()
        subscriber.secrets = [made["secret"]]
        await launch(services)
        await services.webhooks.drain()
        (delivery,) = (await (await api.get(f"{HOOKS}/{made['id']}/deliveries", headers=admin)).json())["data"]
        replayed = await api.post(f"/api/v1/webhooks/deliveries/{delivery['id']}/replay", headers=admin)
        assert (await replayed.json())["status"] == "pending"
        await services.webhooks.drain()
        assert [post.headers["webhook-id"] for post in subscriber.posts] == [delivery["webhook_id"]] * 2
        assert json.loads(subscriber.posts[0].body) == json.loads(subscriber.posts[1].body)

        gone = await api.delete(f"{HOOKS}/{made['id']}", headers=admin)
        assert (await gone.json())["status"] == "deleted"
        assert (await (await api.get(HOOKS, headers=admin)).json()) == {"data": []}
        await draft(services)
        await launch(services)
        await services.webhooks.drain()
        assert len(subscriber.posts) == 2
        missing = await api.post(f"/api/v1/webhooks/deliveries/{delivery['id'] + 100}/replay", headers=admin)
        assert missing.status == 404
    audit = await (await api.get("/api/v1/audit?action=webhook.", headers=admin)).json()
    recorded = [(entry["action"], entry["target"]["kind"], entry["actor"]["kind"]) for entry in audit["data"]]
    assert recorded == [
        ("webhook.unsubscribe", "webhook_subscriber", "token"),
        ("webhook.replay", "webhook_delivery", "token"),
        ("webhook.subscribe", "webhook_subscriber", "token"),
    ]
    assert "whsec_" not in json.dumps(audit)


def test_the_api_takes_every_event_type_the_service_writes() -> None:
    assert get_args(EventType) == EVENT_TYPES
