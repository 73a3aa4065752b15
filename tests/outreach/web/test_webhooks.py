"""Every webhook over HTTP, one table (courier's `IncomingTestCase` style): a forged call is refused
(403), a malformed one too (400, hostile JSON included: 100,000 brackets, a lone surrogate), a
provider's call while the store is down is spooled and answered 200 (an email link's page asks to retry:
503), input the store refuses (on PostgreSQL, a NUL in a provider's message id: texts are sealed)
is acknowledged (200: a retry would fail forever) and kept as a failed event with the store's reason,
a good one is answered 200 with its effect stored, once.

Each row runs in a world of its own (tests/world.py): the service with Twilio, Telegram and email
configured against the stand-ins of channels/standins/ and an SMTP server (or, for the sandbox rows,
with no provider, so the sandbox channels serve), its app on a real socket, three residents asked the
first question over SMS, Telegram and email. The row's request is posted once; the status and what the
store then holds are checked; rows with `again` post the very same request once more (after an outage:
once the store is back, and then the spool is flushed as `serve` does) and check both again, so a
provider's retry is stored once.

"Store down" is a real outage (`store_outage`: the SQLite file is gone, PostgreSQL refuses the
database), not a stand-in for our code.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest
from _pytest.mark import ParameterSet
from sqlalchemy import select
from sqlmodel import col
from yarl import URL

from channels.email_tokens import reply_token
from channels.sandbox import SECRET_HEADER as SANDBOX_HEADER
from channels.standins.twilio import SIGNATURE_HEADER, twilio_signature
from channels.telegram import SECRET_HEADER as TELEGRAM_HEADER
from outreach.inbound.spool_flusher import SpoolFlusher
from storage.db import is_sqlite
from storage.tables import InboundEvent, OutboxMessage
from tests.conftest import ManualClock
from tests.factories import add_resident
from tests.outreach.helpers import inbound_outcomes, launch, responses
from tests.providers import (
    SANDBOX_SECRET,
    SMS_FROM,
    TELEGRAM_WEBHOOK_SECRET,
    TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN,
)
from tests.world import World, open_world, store_outage

PHONE, CHAT, MAIL = "+48600100200", 515151, "ola@example.org"
CAMPAIGN = """
name: Trzy kanały
languages: [pl]
channels: [sms, telegram, email]
schedule: {quiet_hours: null}
questions:
  - {id: uses_tram, type: yesno, text: {pl: "Czy jeździsz tramwajem?"}}
  - {id: often, type: yesno, text: {pl: "Codziennie?"}}
"""


# --- the requests ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Post:
    """One webhook call: a form (urlencoded, as Twilio and the sandbox post) or a raw body (Telegram)."""

    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    form: Mapping[str, str] | None = None
    body: bytes | None = None


Request = Callable[[World], Post]  # the call, made once the residents were asked
Fields = Callable[[World], dict[str, str]]


def inbound_sms(*, without: tuple[str, ...] = (), **changes: str) -> Fields:
    """What Twilio posts for a resident's SMS."""

    def fields(world: World) -> dict[str, str]:
        form = {
            "MessageSid": "SM" + "a" * 32,
            "AccountSid": TWILIO_ACCOUNT_SID,
            "From": PHONE,
            "To": SMS_FROM,
            "Body": "tak",
            "NumMedia": "0",
        }
        return {name: value for name, value in (form | changes).items() if name not in without}

    return fields


def status_report(*, without: tuple[str, ...] = (), **changes: str) -> Fields:
    """What Twilio posts when the SMS question it accepted was delivered."""

    def fields(world: World) -> dict[str, str]:
        form = {
            "MessageSid": world.twilio.messages[0].sid,
            "AccountSid": TWILIO_ACCOUNT_SID,
            "From": SMS_FROM,
            "To": PHONE,
            "MessageStatus": "delivered",
        }
        return {name: value for name, value in (form | changes).items() if name not in without}

    return fields


def twilio(
    path: str,
    fields: Fields,
    *,
    key: str | None = TWILIO_AUTH_TOKEN,
    signed_url_suffix: str = "",
    after_signing: Mapping[str, str] | None = None,
) -> Request:
    """A form posted to `path`, signed as Twilio signs (with `key` over the public URL + `signed_url_suffix`
    and the fields; no signature when `key` is None); `after_signing` changes fields the signature covers."""

    def request(world: World) -> Post:
        form = fields(world)
        headers = {}
        if key is not None:
            headers[SIGNATURE_HEADER] = twilio_signature(key, world.url(path) + signed_url_suffix, form)
        return Post(path, headers, form={**form, **(after_signing or {})})

    return request


def telegram(update: Callable[[World], Any] | bytes, *, secret: str | None = TELEGRAM_WEBHOOK_SECRET) -> Request:
    """An update posted as Telegram posts it: JSON, with the webhook secret in its header."""

    def request(world: World) -> Post:
        body = update if isinstance(update, bytes) else json.dumps(update(world)).encode()
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[TELEGRAM_HEADER] = secret
        return Post("/webhooks/telegram", headers, body=body)

    return request


def typed(text: str) -> Callable[[World], dict[str, Any]]:
    return lambda world: world.telegram.message_update(CHAT, text)


def stranger_says_hello(world: World) -> dict[str, Any]:
    """An update written out, for a world without the Telegram stand-in to make one."""
    chat = {"id": 777001, "type": "private", "first_name": "Ola"}
    message = {"message_id": 1, "from": {**chat, "is_bot": False}, "chat": chat, "date": 1_800_000_000, "text": "hi"}
    return {"update_id": 700_000_001, "message": message}


def tap(world: World) -> dict[str, Any]:
    """A tap on the "tak" button of the question the bot sent."""
    [question] = world.telegram.messages(CHAT)
    return world.telegram.callback_update(CHAT, "a:1:uses_tram:yes", question["message_id"])


def tap_without_its_id(world: World) -> dict[str, Any]:
    update = tap(world)
    del update["callback_query"]["id"]
    return update


def mailed_token(world: World) -> str:
    """The reply token of the question mailed to the resident (in its answer and unsubscribe links)."""
    [mail] = world.smtp.messages
    found = re.search(rb"reply\+([a-z2-7]+)@", mail.content)
    assert found is not None
    return found.group(1).decode()


def forged_token(world: World) -> str:
    """Shaped as a token, signed with a key that is not ours: no message carries it."""
    return reply_token(b"a guessed key", "q:1:3:uses_tram:0")


def answer_link(key: str, token: Callable[[World], str] = mailed_token) -> Request:
    """The click on an answer link's button (its page POSTs to the link)."""
    return lambda world: Post(f"/answer/{token(world)}/{key}")


def unsubscribe(token: Callable[[World], str] = mailed_token) -> Request:
    """RFC 8058 one-click unsubscribe, as a mail client posts it."""
    return lambda world: Post(f"/unsubscribe/{token(world)}", form={"List-Unsubscribe": "One-Click"})


def sandbox(form: Mapping[str, str], *, secret: str | None = SANDBOX_SECRET, channel: str = "sms") -> Request:
    headers = {} if secret is None else {SANDBOX_HEADER: secret}
    return lambda world: Post(f"/webhooks/sandbox/{channel}", headers, form=form)


SANDBOX_REPLY = {"id": "SB-1", "from": PHONE, "text": "tak"}


# --- what the store holds --------------------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    outcomes: tuple[str, ...] = ()  # the inbound events stored, by outcome
    answers: tuple[tuple[str, Any], ...] = ()  # the answers recorded
    delivery: tuple[str, ...] = ()  # the delivery statuses recorded on sent messages
    reasons: tuple[str, ...] = ()  # why inbound events failed


NOTHING = Stored()
ANSWERED = Stored(outcomes=("answered",), answers=(("uses_tram", "yes"),))
UNSUBSCRIBED = Stored(outcomes=("stopped",))
DELIVERED = Stored(delivery=("delivered",))
# Acknowledged, and recorded as failed with the store's reason (its words and SQLSTATE, never the text).
FAILED = Stored(
    outcomes=("failed",), reasons=("a text holds a character the store refuses (the NUL character) [SQLSTATE 22021]",)
)


async def stored(world: World) -> Stored:
    services = world.services
    async with services.sessions() as session:
        statuses = await session.execute(
            select(col(OutboxMessage.delivery_status))
            .where(col(OutboxMessage.delivery_status).is_not(None))
            .order_by(col(OutboxMessage.id))
        )
        delivery = tuple(str(status) for status in statuses.scalars())
        reasons = await session.execute(
            select(col(InboundEvent.reason)).where(col(InboundEvent.reason).is_not(None)).order_by(col(InboundEvent.id))
        )
    return Stored(
        tuple(await inbound_outcomes(services)),
        tuple(await responses(services)),
        delivery,
        tuple(str(reason) for reason in reasons.scalars()),
    )


# --- the table -------------------------------------------------------------------------------------

Providers = Literal["configured", "none"]  # none: the sandbox channels serve


@dataclass(frozen=True)
class Case:
    request: Request
    status: int
    stored: Stored
    again: tuple[int, Stored] | None = None  # the same request once more (after a 503: the store is back)
    store_down: bool = False
    providers: Providers = "configured"
    on_sqlite: tuple[int, Stored] | None = None  # where SQLite holds what PostgreSQL refuses (a NUL)


def case(
    name: str,
    request: Request,
    status: int,
    stored: Stored,
    *,
    again: tuple[int, Stored] | None = None,
    store_down: bool = False,
    providers: Providers = "configured",
    on_sqlite: tuple[int, Stored] | None = None,
) -> ParameterSet:
    return pytest.param(Case(request, status, stored, again, store_down, providers, on_sqlite), id=name)


SMS, STATUS = "/webhooks/twilio/sms", "/webhooks/twilio/status"

CASES = [
    # Twilio: an inbound SMS. The signature covers the public URL and every field.
    case("twilio sms: unsigned", twilio(SMS, inbound_sms(), key=None), 403, NOTHING),
    case("twilio sms: signed with another token", twilio(SMS, inbound_sms(), key="guess"), 403, NOTHING),
    case(
        "twilio sms: body changed after signing",
        twilio(SMS, inbound_sms(), after_signing={"Body": "nie"}),
        403,
        NOTHING,
    ),
    case("twilio sms: signed for another URL", twilio(SMS, inbound_sms(), signed_url_suffix="?x=1"), 403, NOTHING),
    case("twilio sms: no From", twilio(SMS, inbound_sms(without=("From",))), 400, NOTHING),
    case("twilio sms: no MessageSid", twilio(SMS, inbound_sms(without=("MessageSid",))), 400, NOTHING),
    case("twilio sms: an empty WhatsApp From", twilio(SMS, inbound_sms(From="whatsapp:")), 400, NOTHING),
    # A NUL, which PostgreSQL refuses in text, reaches no column since revision 0030: the text is sealed.
    case(
        "twilio sms: a NUL in the text, stored sealed",
        twilio(SMS, inbound_sms(Body="tak\x00")),
        200,
        ANSWERED,
        again=(200, ANSWERED),
    ),
    # Input the store still refuses: a NUL in the provider's message id, which is kept as it came.
    case(
        "twilio sms: a NUL in the MessageSid",
        twilio(SMS, inbound_sms(MessageSid="SM\x00probe")),
        200,
        FAILED,
        on_sqlite=(200, ANSWERED),
    ),
    case("twilio sms: store down", twilio(SMS, inbound_sms()), 200, NOTHING, again=(200, ANSWERED), store_down=True),
    case("twilio sms: an answer, retried", twilio(SMS, inbound_sms()), 200, ANSWERED, again=(200, ANSWERED)),
    # Twilio: a delivery status callback for the SMS question.
    case("twilio status: unsigned", twilio(STATUS, status_report(), key=None), 403, NOTHING),
    case("twilio status: signed with another token", twilio(STATUS, status_report(), key="guess"), 403, NOTHING),
    case(
        "twilio status: status changed after signing",
        twilio(STATUS, status_report(MessageStatus="failed"), after_signing={"MessageStatus": "delivered"}),
        403,
        NOTHING,
    ),
    case("twilio status: no MessageStatus", twilio(STATUS, status_report(without=("MessageStatus",))), 400, NOTHING),
    case("twilio status: no MessageSid", twilio(STATUS, status_report(without=("MessageSid",))), 400, NOTHING),
    case(
        "twilio status: store down",
        twilio(STATUS, status_report()),
        200,
        NOTHING,
        again=(200, DELIVERED),
        store_down=True,
    ),
    case("twilio status: delivered, retried", twilio(STATUS, status_report()), 200, DELIVERED, again=(200, DELIVERED)),
    # Telegram: an update; the secret set with the webhook comes in a header.
    case("telegram: no secret", telegram(typed("tak"), secret=None), 403, NOTHING),
    case("telegram: wrong secret", telegram(typed("tak"), secret="guess"), 403, NOTHING),
    case("telegram: not JSON", telegram(b"update_id=1"), 400, NOTHING),
    case("telegram: not an object", telegram(b"[1, 2]"), 400, NOTHING),
    case(
        "telegram: update_id not a number",
        telegram(lambda world: {**typed("tak")(world), "update_id": "x"}),
        400,
        NOTHING,
    ),
    case("telegram: a tap without its id", telegram(tap_without_its_id), 400, NOTHING),
    case("telegram: nested 100,000 deep", telegram(b"[" * 100_000 + b"]" * 100_000), 400, NOTHING),
    case("telegram: a lone surrogate in the text", telegram(typed("\ud800")), 400, NOTHING),
    # A NUL, which PostgreSQL refuses in text, reaches no column since revision 0030: the text is sealed.
    case(
        "telegram: a NUL in the text, stored sealed", telegram(typed("tak\x00")), 200, ANSWERED, again=(200, ANSWERED)
    ),
    case("telegram: store down", telegram(typed("tak")), 200, NOTHING, again=(200, ANSWERED), store_down=True),
    case("telegram: a typed answer, retried", telegram(typed("tak")), 200, ANSWERED, again=(200, ANSWERED)),
    case("telegram: a tap, retried", telegram(tap), 200, ANSWERED, again=(200, ANSWERED)),
    # Email: the links in a question mail. A link nobody was sent is not there (404), not forbidden.
    case("answer link: a forged token", answer_link("yes", forged_token), 404, NOTHING),
    case("answer link: not a token", answer_link("yes", lambda world: "not-a-token"), 404, NOTHING),
    case("answer link: a key the question lacks", answer_link("maybe"), 404, NOTHING),
    case(
        "answer link: store down",
        answer_link("yes"),
        503,
        NOTHING,
        again=(200, ANSWERED),
        store_down=True,
    ),
    case("answer link: a click, clicked again", answer_link("yes"), 200, ANSWERED, again=(200, ANSWERED)),
    case("unsubscribe: a forged token", unsubscribe(forged_token), 404, NOTHING),
    case(
        "unsubscribe: store down",
        unsubscribe(),
        503,
        NOTHING,
        again=(200, UNSUBSCRIBED),
        store_down=True,
    ),
    case("unsubscribe: one click, clicked again", unsubscribe(), 200, UNSUBSCRIBED, again=(200, UNSUBSCRIBED)),
    # A provider that is not configured has no webhook.
    case("sandbox: while providers serve", sandbox(SANDBOX_REPLY), 404, NOTHING),
    case("twilio sms: Twilio not configured", twilio(SMS, inbound_sms()), 404, NOTHING, providers="none"),
    case("telegram: Telegram not configured", telegram(stranger_says_hello), 404, NOTHING, providers="none"),
    # The sandbox channels (no provider configured): a shared secret in a header.
    case("sandbox: no secret", sandbox(SANDBOX_REPLY, secret=None), 403, NOTHING, providers="none"),
    case("sandbox: wrong secret", sandbox(SANDBOX_REPLY, secret="guess"), 403, NOTHING, providers="none"),
    case("sandbox: no text", sandbox({"id": "SB-2", "from": PHONE}), 400, NOTHING, providers="none"),
    case("sandbox: an empty id", sandbox({**SANDBOX_REPLY, "id": ""}), 400, NOTHING, providers="none"),
    case("sandbox: no such channel", sandbox(SANDBOX_REPLY, channel="fax"), 404, NOTHING, providers="none"),
    case(
        "sandbox: store down",
        sandbox(SANDBOX_REPLY),
        200,
        NOTHING,
        again=(200, ANSWERED),
        store_down=True,
        providers="none",
    ),
    case("sandbox: a reply, retried", sandbox(SANDBOX_REPLY), 200, ANSWERED, again=(200, ANSWERED), providers="none"),
]


@asynccontextmanager
async def asked(database_url: str, clock: ManualClock, providers: Providers) -> AsyncIterator[World]:
    """The service, three residents (SMS, Telegram, email) and the first question sent to each."""
    configured = providers == "configured"
    async with open_world(
        database_url,
        clock,
        twilio=configured,
        telegram=configured,
        smtp=configured,
        sandbox_secret=SANDBOX_SECRET,
        # Limits no first send waits for: a send whose start record was slow (a loaded machine) takes a
        # fresh slot, a second away at the default email and per-chat rates; these rows are not about them.
        rate_email_per_minute=60_000,
        rate_telegram_per_chat_per_second=1_000,
    ) as world:
        await add_resident(world.services, phone=PHONE)
        await add_resident(world.services, telegram=str(CHAT))
        await add_resident(world.services, email=MAIL)
        await launch(world.services, CAMPAIGN)
        assert await world.services.dispatcher.drain() == 3
        yield world


async def post(world: World, call: Post) -> int:
    data = call.form if call.form is not None else call.body
    async with world.client.post(call.path, headers=call.headers, data=data) as response:
        return response.status


@pytest.mark.parametrize("row", CASES)
async def test_webhook(row: Case, database_url: str, clock: ManualClock) -> None:
    async with asked(database_url, clock, row.providers) as world:
        assert await stored(world) == NOTHING
        call = row.request(world)
        if row.store_down:
            async with store_outage(world.services):
                status = await post(world, call)
        else:
            status = await post(world, call)
        expected = (row.status, row.stored)
        if row.on_sqlite is not None and is_sqlite(database_url):
            expected = row.on_sqlite
        assert (status, await stored(world)) == expected
        if row.again is not None and expected == row.on_sqlite:
            assert (await post(world, call), await stored(world)) == (row.on_sqlite[0], row.on_sqlite[1])
        elif row.again is not None:
            status = await post(world, call)
            await SpoolFlusher(world.services.spool, world.services).flush()  # nothing, unless the outage spooled
            assert (status, await stored(world)) == row.again


async def raw_post(world: World, path: str, header: bytes, body: bytes, content_type: bytes) -> int:
    """A POST written byte by byte, as a client no library stands between: header values need not be UTF-8."""
    url = URL(world.public_url)
    assert url.host is not None
    reader, writer = await asyncio.open_connection(url.host, url.port)
    head = b"POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s\r\nConnection: close\r\n\r\n"
    writer.write(head % (path.encode(), url.host.encode(), content_type, len(body), header) + body)
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    await writer.wait_closed()
    return int(status_line.split()[1])


FORM = b"application/x-www-form-urlencoded"
# A secret or signature header that is not UTF-8 (aiohttp hands it on with surrogates in it), and a
# Twilio form that is not UTF-8: each is refused with a 4xx, never a 500 with a traceback in the log.
RAW_CALLS = [  # (path, header, body, content type, status); the sandbox answers only when no provider is set
    ("/webhooks/telegram", TELEGRAM_HEADER.encode() + b": \xff\xfe", b'{"update_id": 1}', b"application/json", 403),
    ("/webhooks/sandbox/sms", SANDBOX_HEADER.encode() + b": \xff", b"id=1&from=%2B48600100200&text=tak", FORM, 403),
    ("/webhooks/twilio/sms", SIGNATURE_HEADER.encode() + b": \xff", b"MessageSid=SM1&From=x&Body=tak", FORM, 403),
    ("/webhooks/twilio/sms", SIGNATURE_HEADER.encode() + b": x", b"MessageSid=SM1&From=x&Body=\xff", FORM, 400),
    ("/webhooks/twilio/sms", SIGNATURE_HEADER.encode() + b": x", b"MessageSid=SM1&From=x&Body=%FF", FORM, 403),
]


@pytest.mark.parametrize(("path", "header", "body", "content_type", "status"), RAW_CALLS)
async def test_headers_and_forms_not_in_utf8_are_refused(
    database_url: str, clock: ManualClock, path: str, header: bytes, body: bytes, content_type: bytes, status: int
) -> None:
    configured = "sandbox" not in path
    async with open_world(
        database_url, clock, twilio=configured, telegram=configured, sandbox_secret=SANDBOX_SECRET
    ) as world:
        assert await raw_post(world, path, header, body, content_type) == status
