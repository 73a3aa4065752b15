"""Provider webhooks: verify the signature, parse, run the pipeline, answer only after the commit.

A forged request gets 403, a malformed one 400, a store outage 503 (the provider retries later);
anything else is 200, and by then the inbound event, its answer and the next message are committed.
"""

from __future__ import annotations

import logging

from aiohttp import web

from channels.base import Channel, Inbound, InvalidRequest, Request
from channels.telegram import TelegramChannel
from channels.twilio_sms import TwilioChannel, empty_twiml
from outreach.bootstrap import Services
from outreach.inbound.pipeline import Outcome
from outreach.inbound.taps import acknowledge_tap
from outreach.outbound.delivery_status import record_delivery_status
from storage.db import STORE_UNAVAILABLE

log = logging.getLogger(__name__)


async def channel_request(services: Services, request: web.Request) -> Request:
    """The framework-free request a channel verifies and parses. The URL is the configured public
    base URL + path + query: behind a proxy, the URL the provider signed, not the one we see."""
    body = await request.read()
    form = await request.post() if request.content_type == "application/x-www-form-urlencoded" else {}
    return Request(
        url=services.settings.public_url.rstrip("/") + request.path_qs,
        headers=dict(request.headers),
        form={key: value for key, value in form.items() if isinstance(value, str)},
        body=body,
    )


def verified(channel: Channel, incoming: Request) -> None:
    if not channel.verify(incoming):
        raise web.HTTPForbidden(text="signature does not match")


async def receive(services: Services, channel: Channel, incoming: Request) -> list[tuple[Inbound, Outcome]]:
    verified(channel, incoming)
    try:
        inbounds = channel.parse_inbound(incoming)
    except InvalidRequest as error:
        raise web.HTTPBadRequest(text=str(error)) from None
    try:
        return [(inbound, await services.pipeline.handle(inbound)) for inbound in inbounds]
    except STORE_UNAVAILABLE as error:
        log.warning("store unavailable, asking the provider to retry: %s", type(error).__name__)
        raise web.HTTPServiceUnavailable(text="store unavailable, retry later") from None


async def sandbox_webhook(request: web.Request, services: Services) -> web.Response:
    channel = services.sandboxes.get(request.match_info["channel"])
    if channel is None:
        raise web.HTTPNotFound(text="no such sandbox channel")
    handled = await receive(services, channel, await channel_request(services, request))
    return web.json_response({"outcomes": [outcome.value for _, outcome in handled]})


def twilio_channel(services: Services) -> TwilioChannel:
    for name in ("sms", "whatsapp"):
        channel = services.channels.get(name)
        if isinstance(channel, TwilioChannel):
            return channel
    raise web.HTTPNotFound(text="Twilio is not configured")


async def twilio_inbound_webhook(request: web.Request, services: Services) -> web.Response:
    """Inbound SMS and WhatsApp: answered with empty TwiML (our replies go through the outbox)."""
    await receive(services, twilio_channel(services), await channel_request(services, request))
    return web.Response(text=empty_twiml(), content_type="text/xml")


async def twilio_status_webhook(request: web.Request, services: Services) -> web.Response:
    channel = twilio_channel(services)
    incoming = await channel_request(services, request)
    verified(channel, incoming)
    try:
        reports = channel.parse_status(incoming)
    except InvalidRequest as error:
        raise web.HTTPBadRequest(text=str(error)) from None
    try:
        for report in reports:
            await record_delivery_status(services.sessions, report, clock=services.clock)
    except STORE_UNAVAILABLE:
        raise web.HTTPServiceUnavailable(text="store unavailable, retry later") from None
    return web.Response(text=empty_twiml(), content_type="text/xml")


def telegram_channel(services: Services) -> TelegramChannel:
    channel = services.channels.get("telegram")
    if not isinstance(channel, TelegramChannel):
        raise web.HTTPNotFound(text="Telegram is not configured")
    return channel


async def telegram_webhook(request: web.Request, services: Services) -> web.Response:
    channel = telegram_channel(services)
    handled = await receive(services, channel, await channel_request(services, request))
    for inbound, outcome in handled:
        if inbound.tap is not None:
            await acknowledge_tap(services, channel, inbound, outcome)
    return web.json_response({"outcomes": [outcome.value for _, outcome in handled]})
