"""The pages behind the links in our emails: answer links and one-click unsubscribe.

A GET never records anything (mail scanners open every link in a mail): it shows a page with a
button, and only the POST that button sends records the answer or the unsubscribe. RFC 8058
one-click unsubscribe POSTs `List-Unsubscribe=One-Click` to the same URL. The unsubscribe page says
what the click did (outreach.web.unsubscribe_results); a link that is not ours gets a 404 page.
"""

from __future__ import annotations

import html

from aiohttp import web

from channels.base import ButtonTap, Inbound
from channels.email import EMAIL, EmailChannel
from channels.email_tokens import is_token
from outreach.bootstrap import Services
from outreach.campaigns.conversations import parse_question_key
from outreach.inbound.keywords import UNSUBSCRIBE_LINK_PREFIX
from outreach.inbound.pipeline import Outcome
from outreach.inbound.service_texts import pick
from outreach.web.unsubscribe_results import (
    UnsubscribeResult,
    browser_language,
    result_page_texts,
    unsubscribe_result,
)
from storage.db import STORE_UNAVAILABLE, read_session
from storage.outbox import OutboxRepository
from storage.residents import ResidentRepository
from storage.tables import ContactAddress, OutboxMessage

_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{title}</title></head>
<body style="font-family: sans-serif; max-width: 32rem; margin: 2rem auto; line-height: 1.5">
<h1 style="font-size: 1.3rem">{title}</h1>
<p>{body}</p>
{form}
</body></html>"""

_TEXTS = {
    "confirm": {"pl": "Potwierdź odpowiedź", "en": "Confirm your answer", "uk": "Підтвердіть відповідь"},
    "answer": {"pl": "Twoja odpowiedź:", "en": "Your answer:", "uk": "Ваша відповідь:"},
    "send": {"pl": "Wyślij odpowiedź", "en": "Send my answer", "uk": "Надіслати відповідь"},
    "thanks": {"pl": "Dziękujemy!", "en": "Thank you!", "uk": "Дякуємо!"},
    "recorded": {
        "pl": "Odpowiedź zapisana. Kolejne pytanie, jeśli jest, przyjdzie mailem.",
        "en": "Your answer is recorded. The next question, if any, comes by email.",
        "uk": "Відповідь збережено. Наступне запитання, якщо є, надійде поштою.",
    },
    "closed": {
        "pl": "To pytanie jest już zamknięte — ta odpowiedź nie zostanie policzona.",
        "en": "This question is already closed, so this answer is not counted.",
        "uk": "Це запитання вже закрите, тож цю відповідь не враховано.",
    },
    "unsubscribe": {"pl": "Wypisz mnie", "en": "Unsubscribe me", "uk": "Відписати мене"},
    "unsubscribe_ask": {
        "pl": "Czy na pewno nie chcesz więcej pytań od miasta?",
        "en": "Do you really want no more questions from the city?",
        "uk": "Ви справді не хочете більше запитань від міста?",
    },
    "gone": {
        "pl": "Ten link nie jest już ważny.",
        "en": "This link is no longer valid.",
        "uk": "Це посилання вже недійсне.",
    },
}


def _t(name: str, language: str) -> str:
    return pick(_TEXTS[name], language)


def _page(language: str, title: str, body: str, button: str | None = None, status: int = 200) -> web.Response:
    form = (
        f'<form method="post"><button type="submit" style="font-size: 1.1rem; padding: .6rem 1.2rem">'
        f"{html.escape(button)}</button></form>"
        if button
        else ""
    )
    text = _PAGE.format(lang=language, title=html.escape(title), body=html.escape(body), form=form)
    return web.Response(text=text, content_type="text/html", status=status)


def _not_ours(request: web.Request) -> web.HTTPNotFound:
    """A link no message of ours carries (mistyped, cut short, forged): a page saying so, in the
    browser's language, since no resident is known."""
    language = browser_language(request.headers.get("Accept-Language"))
    title, body = result_page_texts(UnsubscribeResult.NOT_OURS, language)
    page = _page(language, title, body)
    return web.HTTPNotFound(text=page.text, content_type="text/html")


async def _message_for(request: web.Request, services: Services) -> tuple[OutboxMessage, ContactAddress, str, str]:
    """The message a link's token belongs to, the address row it went to, the address itself, and the
    resident's language."""
    token = request.match_info["token"]
    channel = services.channels.get("email")
    if not isinstance(channel, EmailChannel) or not is_token(token):
        raise _not_ours(request)
    try:
        async with read_session(services.sessions) as session:
            sent = await OutboxRepository(session).sent_message(EMAIL, channel.message_id(token))
            if sent is None:
                raise _not_ours(request)
            resident = await ResidentRepository(session).get(sent[1].resident_id)
    except STORE_UNAVAILABLE:
        raise _store_unavailable() from None
    return sent[0], sent[1], sent[2], resident.language


async def answer_page(request: web.Request, services: Services) -> web.Response:
    token, key = request.match_info["token"], request.match_info["key"]
    message, _, address, language = await _message_for(request, services)
    label = next((choice["label"] for choice in message.choices if choice["key"] == key), None)
    if label is None:
        return _page(language, _t("gone", language), "", status=404)
    if request.method == "GET":
        return _page(language, _t("confirm", language), f"{_t('answer', language)} {label}", _t("send", language))
    question = parse_question_key(message.idempotency_key)
    if question is None:
        return _page(language, _t("gone", language), "", status=404)
    campaign_id, question_id = question
    outcome = await _handle(
        services,
        Inbound(
            channel="email",
            provider_id=f"link:{token}:{key}",
            address=address,
            text=key,
            received_at=services.clock(),
            tap=ButtonTap(campaign_id=campaign_id, question_id=question_id, key=key, callback_id=token),
        ),
    )
    if outcome in (Outcome.ANSWERED, Outcome.DUPLICATE):
        return _page(language, _t("thanks", language), _t("recorded", language))
    return _page(language, _t("thanks", language), _t("closed", language))


async def unsubscribe_page(request: web.Request, services: Services) -> web.Response:
    token = request.match_info["token"]
    _, contact, address, language = await _message_for(request, services)
    if request.method == "GET":
        return _page(
            language, _t("unsubscribe", language), _t("unsubscribe_ask", language), _t("unsubscribe", language)
        )
    outcome = await _handle(
        services,
        Inbound(
            channel="email",
            provider_id=f"{UNSUBSCRIBE_LINK_PREFIX}{token}",
            address=address,
            text="STOP",
            received_at=services.clock(),
            command="stop",
        ),
    )
    # The pipeline keeps one event per link: a link used before changes nothing now, and whether the
    # address is unsubscribed depends on what came since (a START by the resident).
    opted_out_now = outcome is Outcome.DUPLICATE and await _opted_out(services, contact)
    title, body = result_page_texts(unsubscribe_result(outcome, opted_out_now=opted_out_now), language)
    return _page(language, title, body)


async def _opted_out(services: Services, contact: ContactAddress) -> bool:
    try:
        async with read_session(services.sessions) as session:
            current = await session.get(ContactAddress, contact.id)
    except STORE_UNAVAILABLE:
        raise _store_unavailable() from None
    return current is not None and current.opted_out_at is not None


async def _handle(services: Services, inbound: Inbound) -> Outcome:
    try:
        return await services.pipeline.handle(inbound)
    except STORE_UNAVAILABLE:
        raise _store_unavailable() from None


def _store_unavailable() -> web.HTTPServiceUnavailable:
    """A page a resident can come back to: the store is down, nothing was recorded."""
    return web.HTTPServiceUnavailable(text="please try again in a minute")
