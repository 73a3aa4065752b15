"""Provider webhooks: verify the signature, parse, run the pipeline, answer only after the commit.

A forged request gets 403, a malformed one 400, a store outage 503 (the provider retries later: Telegram
always, Twilio when its webhook URL carries the `#rc=5&rp=all` override, see `outreach webhooks`);
anything else is 200, and by then the inbound event, its answer and the next message are committed.
Input the store refuses (a value it cannot hold) would fail forever: it is answered 200 too, and kept
as a failed inbound event with the store's reason (outreach.inbound.failures). Two writers colliding
(serialization failure, deadlock) are tried again a few times before that counts as an outage.
"""

from __future__ import annotations

import functools
import logging

from aiohttp import web

from channels.base import Channel, Inbound, InvalidRequest, Request
from channels.telegram import TelegramChannel
from channels.twilio_sms import TwilioChannel, empty_twiml
from outreach.bootstrap import Services
from outreach.inbound.failures import handle_or_keep_failed
from outreach.inbound.pipeline import Outcome
from outreach.inbound.taps import acknowledge_tap
from outreach.outbound.delivery_status import record_delivery_status
from storage.failures import STORE_ERRORS, StoreFailure, classify, describe, retrying_collisions

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
    return [(inbound, await outcome_of(services, inbound)) for inbound in inbounds]


async def outcome_of(services: Services, inbound: Inbound) -> Outcome:
    """The pipeline's outcome; FAILED when the store refused the input (kept as a failed event)."""
    try:
        return await handle_or_keep_failed(services, inbound)
    except STORE_ERRORS as error:
        raise _unavailable(error) from None


def _unavailable(error: BaseException) -> web.HTTPServiceUnavailable:
    log.warning("store unavailable, asking the provider to retry: %s", describe(error))
    return web.HTTPServiceUnavailable(text="store unavailable, retry later")


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
    for report in reports:
        try:
            await retrying_collisions(
                functools.partial(record_delivery_status, services.sessions, report, clock=services.clock)
            )
        except STORE_ERRORS as error:
            if classify(error) is StoreFailure.OUTAGE:
                raise _unavailable(error) from None
            # The same report would be refused again: acknowledged, and said in the log (no address).
            log.warning("delivery status for %s refused by the store: %s", report.provider_id, describe(error))
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
