"""GET /metrics as Prometheus scrapes it: over a real socket, after real sends through the provider
stand-ins and signed webhooks, parsed with prometheus_client's own parser; and who may scrape."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from flows.loader import load_campaign
from outreach.campaigns.commands import create_campaign, launch_campaign
from outreach.campaigns.launches import LaunchProgress
from outreach.web.prometheus_telemetry import PrometheusTelemetry
from tests.conftest import ManualClock
from tests.factories import add_resident
from tests.outreach.helpers import launch
from tests.outreach.inbound.test_queue import GatedPipeline
from tests.providers import SMS_FROM, TELEGRAM_WEBHOOK_SECRET
from tests.world import AppClient, open_world

PHONE, DEAD_PHONE, CHAT = "+48600100200", "+48600100299", 731948265
CAMPAIGN = """
name: Tramwaj nocą
languages: [pl]
channels: [sms, telegram]
schedule: {quiet_hours: null}
questions:
  - {id: uses_tram, type: yesno, text: {pl: "Czy jeździsz tramwajem?"}}
  - {id: improve, type: text, text: {pl: "Co poprawić?"}}
"""
TOKEN = "metrics-token-0123456789"
LAUNCH_GAUGES = ("outreach_launch_opening", "outreach_launch_conversations", "outreach_launch_register_to_go")

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(client: AppClient, headers: Mapping[str, str] | None = None) -> Samples:
    response = await client.get("/metrics", headers=headers)
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(await response.text())
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


async def test_metrics_count_sends_errors_waits_webhooks_answers_and_read_the_outbox_and_launch(
    database_url: str, clock: ManualClock
) -> None:
    telemetry = PrometheusTelemetry()
    async with open_world(database_url, clock, twilio=True, telegram=True, telemetry=telemetry) as world:
        services = world.services
        await add_resident(services, phone=PHONE)
        await add_resident(services, phone=DEAD_PHONE)
        await add_resident(services, telegram=str(CHAT))
        campaign_id = await launch(services, CAMPAIGN)
        world.twilio.script(to=DEAD_PHONE, status=400, code=21211)  # not a valid number: permanent
        assert await services.dispatcher.drain() == 3

        status, _ = await world.twilio.deliver_inbound(
            world.url("/webhooks/twilio/sms"), from_=PHONE, to=SMS_FROM, body="tak"
        )
        assert status == 200
        [question] = world.telegram.messages(CHAT)
        tap = world.telegram.callback_update(CHAT, f"a:{campaign_id}:uses_tram:yes", question["message_id"])
        assert await world.telegram.post_update(world.url("/webhooks/telegram"), tap, TELEGRAM_WEBHOOK_SECRET) == 200
        [sms] = [message for message in world.twilio.messages if message.to == PHONE]
        assert await world.twilio.deliver_status(sms.sid, "delivered") == 200
        clock.advance(seconds=42)  # the second questions, queued by the answers, have waited this long

        samples = await scrape(world.client)

    # This process's counters.
    assert value(samples, "outreach_sends_total", channel="sms") == 1
    assert value(samples, "outreach_sends_total", channel="telegram") == 1
    assert value(samples, "outreach_send_errors_total", channel="sms", error_class="permanent") == 1
    assert value(samples, "outreach_rate_limit_wait_seconds_count", channel="sms") == 2  # both SMS took a slot
    assert value(samples, "outreach_rate_limit_wait_seconds_count", channel="telegram") == 1
    for webhook in ("twilio_sms", "telegram", "twilio_status"):
        assert value(samples, "outreach_webhook_duration_seconds_count", webhook=webhook) == 1
        assert value(samples, "outreach_webhook_responses_total", webhook=webhook, code="200") == 1
        assert value(samples, "outreach_webhook_duration_seconds_sum", webhook=webhook) > 0
    assert value(samples, "outreach_answers_stored_total", channel="sms") == 1
    assert value(samples, "outreach_answers_stored_total", channel="telegram") == 1
    assert value(samples, "outreach_inbound_messages_total", channel="sms", outcome="answered") == 1
    assert value(samples, "process_resident_memory_bytes") > 0
    # The database's gauges, read at the scrape: each channel's second question waits, due for 42 s.
    assert value(samples, "outreach_store_up") == 1
    for channel in ("sms", "telegram"):
        assert value(samples, "outreach_outbox_depth", channel=channel, status="queued") == 1
        assert value(samples, "outreach_outbox_depth", channel=channel, status="sending") == 0
        assert value(samples, "outreach_outbox_due", channel=channel) == 1
        assert value(samples, "outreach_outbox_oldest_due_seconds", channel=channel) == 42
    assert value(samples, "outreach_launch_conversations", campaign="tramwaj-noca") == 3
    assert value(samples, "outreach_launch_opening", campaign="tramwaj-noca") == 0
    assert value(samples, "outreach_launch_skipped", campaign="tramwaj-noca") == 0
    assert value(samples, "outreach_launch_register_to_go", campaign="tramwaj-noca") == 0
    assert value(samples, "outreach_inbound_queued") == 0  # the SMS answer was handled


async def test_the_inbound_queue_gauge_counts_messages_stored_and_not_handled(
    database_url: str, clock: ManualClock
) -> None:
    async with open_world(database_url, clock, twilio=True, telemetry=PrometheusTelemetry()) as world:
        await add_resident(world.services, phone=PHONE)
        await launch(world.services, CAMPAIGN)
        assert await world.services.dispatcher.drain() == 1
        gated = GatedPipeline(world.services.pipeline)  # handles nothing until its gate opens
        world.services.__dict__["pipeline"] = gated
        world.services.settings.inbound_wait_seconds = 0
        status, _ = await world.twilio.deliver_inbound(
            world.url("/webhooks/twilio/sms"), from_=PHONE, to=SMS_FROM, body="tak"
        )
        assert status == 200
        assert value(await scrape(world.client), "outreach_inbound_queued") == 1
        gated.gate.set()
        await world.services.inbound_queue.idle()
        assert value(await scrape(world.client), "outreach_inbound_queued") == 0


async def test_a_launch_still_opening_shows_how_far_it_has_come(database_url: str, clock: ManualClock) -> None:
    """A scrape between the launch's pages: opening, the conversations opened, the register to go."""
    async with open_world(database_url, clock, twilio=True, telegram=True) as world:
        services = world.services
        for number in range(3):
            await add_resident(services, phone=f"+4860010030{number}")
        record = await create_campaign(services.sessions, load_campaign(CAMPAIGN), clock=services.clock)
        seen: list[list[float]] = []

        async def scrape_between_pages(progress: LaunchProgress) -> None:
            samples = await scrape(world.client)
            seen.append([value(samples, name, campaign=record.slug) for name in LAUNCH_GAUGES])

        await launch_campaign(
            services.sessions, record.slug, clock=services.clock, page_size=1, progress=scrape_between_pages
        )
        samples = await scrape(world.client)
    assert seen[:3] == [[1, 1, 2], [1, 2, 1], [1, 3, 0]]
    assert value(samples, "outreach_launch_opening", campaign=record.slug) == 0
    assert value(samples, "outreach_launch_register_to_go", campaign=record.slug) == 0


@pytest.mark.parametrize(
    ("settings", "headers", "status"),
    [
        ({}, {}, 200),  # loopback, the default allow-list
        ({}, {"X-Forwarded-For": "203.0.113.9"}, 403),  # through a proxy: its address is not the scraper's
        ({"metrics_allow": "10.0.0.0/8"}, {}, 403),
        ({"metrics_allow": "none", "metrics_token": TOKEN}, {}, 403),
        ({"metrics_allow": "none", "metrics_token": TOKEN}, {"Authorization": "Bearer wrong-token-0123456789"}, 403),
        ({"metrics_allow": "none", "metrics_token": TOKEN}, {"Authorization": f"Bearer {TOKEN}"}, 200),
        ({"metrics_token": TOKEN}, {"Authorization": f"Bearer {TOKEN}", "X-Forwarded-For": "203.0.113.9"}, 200),
    ],
)
async def test_only_the_token_or_an_allowed_address_not_behind_a_proxy_may_scrape(
    database_url: str, clock: ManualClock, settings: dict[str, Any], headers: dict[str, str], status: int
) -> None:
    async with open_world(database_url, clock, **settings) as world:
        response = await world.client.get("/metrics", headers=headers)
        assert response.status == status, await response.text()
        assert ("outreach_store_up 1.0" in await response.text()) == (status == 200)
