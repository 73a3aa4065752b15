"""The pages behind the links in our emails: answer links and one-click unsubscribe.

A GET never records anything (mail scanners open every link in a mail): it shows a page with a
button, and only the POST that button sends records the answer or the unsubscribe. RFC 8058
one-click unsubscribe POSTs `List-Unsubscribe=One-Click` to the same URL.
"""

from __future__ import annotations

import html

from aiohttp import web

from channels.base import ButtonTap, Inbound
from channels.email import EMAIL, EmailChannel
from channels.email_tokens import is_token
from outreach.bootstrap import Services
from outreach.campaigns.conversations import parse_question_key
from outreach.inbound.pipeline import Outcome
from outreach.inbound.service_texts import pick
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
    "unsubscribe_body": {
        "pl": "Nie będziemy już wysyłać pytań na ten adres.",
        "en": "We will send no more questions to this address.",
        "uk": "Ми більше не надсилатимемо запитань на цю адресу.",
    },
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


async def _message_for(services: Services, token: str) -> tuple[OutboxMessage, ContactAddress, str]:
    """The message a link's token belongs to, the address it went to, and the resident's language."""
    channel = services.channels.get("email")
    if not isinstance(channel, EmailChannel) or not is_token(token):
        raise web.HTTPNotFound(text="no such link")
    try:
        async with read_session(services.sessions) as session:
            sent = await OutboxRepository(session).sent_message(EMAIL, channel.message_id(token))
            if sent is None:
                raise web.HTTPNotFound(text="no such link")
            resident = await ResidentRepository(session).get(sent[1].resident_id)
    except STORE_UNAVAILABLE:
        raise _store_unavailable() from None
    return sent[0], sent[1], resident.language


async def answer_page(request: web.Request, services: Services) -> web.Response:
    token, key = request.match_info["token"], request.match_info["key"]
    message, contact, language = await _message_for(services, token)
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
            address=contact.address,
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
    _, contact, language = await _message_for(services, token)
    if request.method == "GET":
        return _page(
            language, _t("unsubscribe", language), _t("unsubscribe_ask", language), _t("unsubscribe", language)
        )
    await _handle(
        services,
        Inbound(
            channel="email",
            provider_id=f"unsubscribe:{token}",
            address=contact.address,
            text="STOP",
            received_at=services.clock(),
            command="stop",
        ),
    )
    return _page(language, _t("unsubscribe", language), _t("unsubscribe_body", language))


async def _handle(services: Services, inbound: Inbound) -> Outcome:
    try:
        return await services.pipeline.handle(inbound)
    except STORE_UNAVAILABLE:
        raise _store_unavailable() from None


def _store_unavailable() -> web.HTTPServiceUnavailable:
    """A page a resident can come back to: the store is down, nothing was recorded."""
    return web.HTTPServiceUnavailable(text="please try again in a minute")
