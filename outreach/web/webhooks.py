"""Provider webhooks: verify the signature, parse, run the pipeline, answer only after the commit.

A forged request gets 403, a malformed one 400; anything else is 200, and by then the inbound event,
its answer and the next message are committed (a Twilio message: committed to the inbound queue and
handled behind the answer, outreach.inbound.queue), or, while the store is away, the verified message
(or delivery report) is written durably to the spool (outreach.inbound.spool) and applied in order when
the store is back: Twilio retries a 503 for only about 15 s. While the spool holds anything, new input
queues behind it, so arrival order holds. Only when the spool cannot be written either is the answer
503 (the provider retries later: Telegram always, Twilio with `#rc=5&rp=all`, see `outreach webhooks`).
Input the store refuses (a value it cannot hold) would fail forever: it is answered 200 too, and kept
as a failed inbound event with the store's reason (outreach.inbound.failures). Two writers colliding
(serialization failure, deadlock) are tried again a few times before that counts as an outage.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TypeVar

from aiohttp import web

from channels.base import Channel, DeliveryStatus, Inbound, InvalidRequest, Request
from channels.telegram import TelegramChannel
from channels.twilio_sms import TwilioChannel, empty_twiml
from outreach.bootstrap import Services
from outreach.inbound.failures import handle_or_keep_failed
from outreach.inbound.pipeline import Outcome
from outreach.inbound.taps import acknowledge_tap
from outreach.outbound.delivery_status import record_delivery_status
from storage.failures import STORE_ERRORS, StoreFailure, classify, describe, retrying_collisions

log = logging.getLogger(__name__)

T = TypeVar("T")


async def channel_request(services: Services, request: web.Request) -> Request:
    """The framework-free request a channel verifies and parses. The URL is the configured public
    base URL + path + query: behind a proxy, the URL the provider signed, not the one we see."""
    body = await request.read()
    try:
        form = await request.post() if request.content_type == "application/x-www-form-urlencoded" else {}
    except UnicodeDecodeError:  # raw bytes that are not UTF-8 (aiohttp decodes the whole body at once)
        raise web.HTTPBadRequest(text="the form is not UTF-8") from None
    return Request(
        url=services.settings.public_url.rstrip("/") + request.path_qs,
        headers=dict(request.headers),
        form={key: value for key, value in form.items() if isinstance(value, str)},
        body=body,
    )


def verified(channel: Channel, incoming: Request) -> None:
    if not channel.verify(incoming):
        raise web.HTTPForbidden(text="signature does not match")


def parsed(channel: Channel, incoming: Request, parse: Callable[[Request], list[T]]) -> list[T]:
    """What `parse` reads from a request `channel` signed: 403 when it did not, 400 when it cannot."""
    verified(channel, incoming)
    try:
        return parse(incoming)
    except InvalidRequest as error:
        raise web.HTTPBadRequest(text=str(error)) from None


async def receive(services: Services, channel: Channel, incoming: Request) -> list[tuple[Inbound, Outcome]]:
    inbounds = parsed(channel, incoming, channel.parse_inbound)
    return [(inbound, await outcome_of(services, inbound)) for inbound in inbounds]


async def outcome_of(services: Services, inbound: Inbound) -> Outcome:
    """The pipeline's outcome; FAILED when the store refused the input (kept as a failed event);
    SPOOLED when it was kept on disk (the store is away, or older input still waits there)."""
    if services.spool.has_pending():
        await spooled(services, inbound, because="older input waits in the spool")
        return Outcome.SPOOLED
    try:
        return await handle_or_keep_failed(services, inbound)
    except STORE_ERRORS as error:  # an outage (or collisions that did not pass): bad data was kept above
        await spooled(services, inbound, because=describe(error))
        return Outcome.SPOOLED


async def spooled(services: Services, item: Inbound | DeliveryStatus, *, because: str) -> None:
    """Keep a verified item in the spool; 503 when even that fails (the provider retries later)."""
    try:
        await services.spool.put(item, arrived_at=services.clock())
    except OSError as error:
        log.error("%s %s: could not spool it either (%s)", item.channel, _kind(item), type(error).__name__)
        raise _unavailable(because) from None
    log.info("%s %s kept in the spool: %s", item.channel, _kind(item), because)


def _kind(item: Inbound | DeliveryStatus) -> str:
    return "message" if isinstance(item, Inbound) else "delivery report"


def _unavailable(why: str) -> web.HTTPServiceUnavailable:
    log.warning("store unavailable, asking the provider to retry: %s", why)
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
    """Inbound SMS and WhatsApp: answered with empty TwiML (our replies go through the outbox) once
    each message is stored: in the inbound queue, handled behind the answer (outreach.inbound.queue)."""
    channel = twilio_channel(services)
    with services.inbound_queue.receiving():  # the queue's workers let it go first
        for inbound in parsed(channel, await channel_request(services, request), channel.parse_inbound):
            await queued(services, inbound)
    return web.Response(text=empty_twiml(), content_type="text/xml")


async def queued(services: Services, inbound: Inbound) -> None:
    """`inbound` stored in the inbound queue; in the spool while the store is away (or older input
    waits there); handled at once when the store refuses to queue it (kept failed if refused again).
    When this process had nothing else in hand, waits a little for its handling."""
    if services.spool.has_pending():
        await spooled(services, inbound, because="older input waits in the spool")
        return
    try:
        accepted = await services.inbound_queue.put(inbound)
    except STORE_ERRORS as error:
        if classify(error) is StoreFailure.OUTAGE:
            await spooled(services, inbound, because=describe(error))
        else:
            await outcome_of(services, inbound)
        return
    if accepted.ahead == 0:
        await accepted.handled_within(services.settings.inbound_wait_seconds)


async def twilio_status_webhook(request: web.Request, services: Services) -> web.Response:
    channel = twilio_channel(services)
    reports = parsed(channel, await channel_request(services, request), channel.parse_status)
    # Spooled through an outage too: a lost "undelivered" would leave a dead number unmarked and its
    # fallback unsent. Reports carry no personal data, and replaying one is safe (the outbox keeps a
    # status only when it outranks the one it has).
    for report in reports:
        if services.spool.has_pending():
            await spooled(services, report, because="older input waits in the spool")
            continue
        try:
            await retrying_collisions(
                functools.partial(record_delivery_status, services.sessions, report, clock=services.clock)
            )
        except STORE_ERRORS as error:
            if classify(error) is StoreFailure.OUTAGE:
                await spooled(services, report, because=describe(error))
                continue
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
        if inbound.tap is not None and outcome is Outcome.SPOOLED:
            # The spinner stops now; the store that knows the tapped label is away.
            await channel.acknowledge_tap(inbound.tap, chat_id=inbound.address, notice="✓", chosen_label=None)
        elif inbound.tap is not None:
            await acknowledge_tap(services, channel, inbound, outcome)
    return web.json_response({"outcomes": [outcome.value for _, outcome in handled]})
