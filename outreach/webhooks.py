"""Provider webhooks: verify the signature, parse, run the pipeline, answer only after the commit.

A forged request gets 403, a malformed one 400, a store outage 503 (the provider retries later);
anything else is 200, and by then the inbound event, its answer and the next message are committed.
"""

from __future__ import annotations

import logging

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import ButtonTap, Channel, Inbound, InvalidRequest, Outbound, Request
from channels.telegram import TelegramChannel
from channels.twilio_sms import TwilioChannel, empty_twiml
from flows.engine import FlowState
from outreach import replies
from outreach.bootstrap import Services
from outreach.conversations import stored_choices
from outreach.delivery import record_delivery_status
from outreach.enrolment import ENROLMENT_CAMPAIGN
from outreach.enrolment import prompt as enrolment_prompt
from outreach.pipeline import Outcome
from outreach.results_view import answer_rows
from storage.campaigns import CampaignRepository, ConversationRepository
from storage.db import STORE_UNAVAILABLE, read_session
from storage.outbox import OutboxRepository
from storage.residents import ResidentRepository
from storage.responses import ResponseRepository

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


# Taps that were taken as an answer (to a campaign question or a step of self-enrolment).
COUNTED_TAPS = (Outcome.ANSWERED, Outcome.ENROLLING, Outcome.ENROLLED, Outcome.DECLINED)


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


async def acknowledge_tap(services: Services, channel: TelegramChannel, inbound: Inbound, outcome: Outcome) -> None:
    """After the commit: stop the button's spinner; on an answer, show the choice under the question
    and take the keyboard off; on a multi question's toggle, redraw its ticks; on an old or closed
    question, say so politely."""
    tap = inbound.tap
    assert tap is not None
    language = inbound.language_hint if inbound.language_hint in ("pl", "en", "uk") else "pl"
    if outcome in PICK_TAPS:
        await acknowledge_pick(services, channel, inbound, outcome, language)
        return
    if outcome not in COUNTED_TAPS:
        notice = replies.tap_not_counted(language) if outcome is not Outcome.DUPLICATE else "✓"
        await channel.acknowledge_tap(tap, chat_id=inbound.address, notice=notice, chosen_label=None)
        return
    async with read_session(services.sessions) as session:
        contact = await ResidentRepository(session).contact_by_address(inbound.channel, inbound.address)
        label = sent = None
        if contact is not None and contact.id is not None:
            label = await tapped_label(session, services, tap, language, resident_id=contact.resident_id)
            sent = await OutboxRepository(session).sent_on_address(contact.id, tap.message_id)
    question_text = sent.text if sent else None
    await channel.acknowledge_tap(
        tap, chat_id=inbound.address, notice="✓", chosen_label=label, question_text=question_text
    )


# Taps on a multi question's toggles and "done" that recorded no answer.
PICK_TAPS = (Outcome.PICKED, Outcome.TOO_MANY_PICKED, Outcome.NOTHING_PICKED)


async def acknowledge_pick(
    services: Services, channel: TelegramChannel, inbound: Inbound, outcome: Outcome, language: str
) -> None:
    """A toggle ticks or unticks its option (the keyboard is redrawn from the stored picks, the
    truth after any number of taps); a refused toggle or an empty "done" says why."""
    tap = inbound.tap
    assert tap is not None
    async with read_session(services.sessions) as session:
        contact = await ResidentRepository(session).contact_by_address(inbound.channel, inbound.address)
        if contact is None or contact.id is None:
            return
        conversation = await ConversationRepository(session).active_for_contact(contact.id)
        sent = await OutboxRepository(session).sent_on_address(contact.id, tap.message_id)
        record = await CampaignRepository(session).get(tap.campaign_id)
    question = services.definitions.flow(record).question(tap.question_id)
    if outcome is not Outcome.PICKED or conversation is None or sent is None:
        notice = {
            Outcome.TOO_MANY_PICKED: replies.too_many_picked(language, question.max_choices or len(question.options)),
            Outcome.NOTHING_PICKED: replies.nothing_picked(language),
        }.get(outcome, "✓")  # picked, but the conversation or the message is gone since: nothing to redraw
        await channel.acknowledge_tap(tap, chat_id=inbound.address, notice=notice, chosen_label=None)
        return
    selected = frozenset(FlowState.model_validate(conversation.state).selected)
    number = int(tap.key)  # the toggle's option number, checked against the question by the engine
    option = sent.choices[number - 1] if number <= len(sent.choices) else {"key": "", "label": ""}
    notice = f"{'☑' if option['key'] in selected else '☐'} {option['label']}".strip()
    outbound = Outbound(
        key=sent.idempotency_key,
        channel=inbound.channel,
        address=inbound.address,
        text=sent.text,
        choices=stored_choices(sent.choices),
        choice_style=sent.choice_style,
        submit_label=sent.submit_label,
    )
    await channel.show_selection(tap, chat_id=inbound.address, notice=notice, outbound=outbound, selected=selected)


async def tapped_label(
    session: AsyncSession, services: Services, tap: ButtonTap, language: str, *, resident_id: int
) -> str | None:
    if tap.campaign_id == ENROLMENT_CAMPAIGN:
        choices = enrolment_prompt(tap.question_id, language, services.districts).choices
        return next((label for key, label in choices if key == tap.key), None)
    record = await CampaignRepository(session).get(tap.campaign_id)
    flow = services.definitions.flow(record)
    try:
        rows = answer_rows(
            flow.question(tap.question_id), language if language in flow.languages else flow.default_language
        )
    except KeyError:
        return None
    if tap.action == "submit":  # the options picked, as stored
        value = await ResponseRepository(session).value_of(
            campaign_id=tap.campaign_id, resident_id=resident_id, question_id=tap.question_id
        )
        picked = value if isinstance(value, list) else []
        return ", ".join(label for key, label in rows if key in picked) or None
    if tap.key.isdecimal() and not any(key == tap.key for key, _ in rows) and 0 < int(tap.key) <= len(rows):
        return rows[int(tap.key) - 1][1]  # the index form of callback data
    return next((label for key, label in rows if key == tap.key), None)
