"""The email channel, courier style: aiosmtplib over real sockets to an aiosmtpd server on loopback.

Send rows assert every header and both parts of what the server received; error rows assert the
SendError class (or an unknown outcome) and that neither the address nor the text leaks; read rows
turn raw replies into `Inbound`s and bounces into `DeliveryStatus`es.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import re
import socket
import time
import traceback
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol

import aiosmtplib
import pytest

from channels.base import Channel, Choice, InvalidRequest, Outbound, Request, SendError, Sent
from channels.email import EmailChannel, TlsMode
from channels.email_composition import subject_of
from channels.email_tokens import reply_token
from tests.conftest import unavailable
from tests.providers import EMAIL_FROM as SENDER
from tests.providers import EMAIL_TOKEN_SECRET, REPLY_DOMAIN
from tests.servers.certs import Certificate, make_certificate
from tests.servers.smtp import SmtpServer

SECRET = EMAIL_TOKEN_SECRET.encode()
PUBLIC_URL = "https://konsultacje.example"
ORGANISATION = "Miasto Gdańsk"
RESIDENT = "anna.nowak@example.org"
QUESTION = "Czy chcesz więcej ławek w Parku Oruńskim?"
FIXTURES = Path(__file__).parent / "email_fixtures"

PARK = (Choice("yes", "Tak"), Choice("no", "Nie"), Choice("unsure", "Nie mam zdania"))
SCALE = tuple(Choice(str(n), str(n)) for n in range(1, 6))
TOPICS = (Choice("benches", "ławki"), Choice("trees", "drzewa"), Choice("lights", "oświetlenie"))


class ChannelFactory(Protocol):
    def __call__(self, **overrides: Any) -> EmailChannel: ...


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    made = make_certificate(tmp_path_factory.mktemp("certs"))
    if made is None:
        unavailable("the openssl tool is missing: no certificate for the TLS rows")
    assert made is not None
    return made


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpServer]:
    async with SmtpServer() as server:
        yield server


def channel_kwargs(port: int, **overrides: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_user": "outreach",
        "smtp_password": "smtp-secret",
        "sender": SENDER,
        "reply_domain": REPLY_DOMAIN,
        "public_url": PUBLIC_URL,
        "token_secret": SECRET,
        "organisation": ORGANISATION,
        "tls": "none",
        "timeout": 5.0,
    }
    kwargs.update(overrides)
    return kwargs


@pytest.fixture
def make_channel(smtp: SmtpServer) -> ChannelFactory:
    def make(**overrides: Any) -> EmailChannel:
        return EmailChannel(**channel_kwargs(smtp.port, **overrides))

    return make


def offline_channel(**overrides: Any) -> EmailChannel:
    return EmailChannel(**channel_kwargs(9, **overrides))


def received_message(content: bytes) -> EmailMessage:
    message = email.message_from_bytes(content, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def parts(message: EmailMessage) -> tuple[str, str]:
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    return plain.get_content().replace("\r\n", "\n"), html.get_content().replace("\r\n", "\n")


def test_email_is_a_channel() -> None:
    channel = offline_channel()
    assert isinstance(channel, Channel)
    assert channel.name == "email"
    assert channel.capabilities.buttons and not channel.capabilities.signed_webhooks
    assert channel.capabilities.max_length >= 10_000


# --- construction ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "overrides"),
    [
        ("empty host", {"smtp_host": ""}),
        ("port 0", {"smtp_port": 0}),
        ("user without password", {"smtp_password": None}),
        ("unknown TLS mode", {"tls": "ssl"}),
        ("sender with a display name", {"sender": "Miasto <k@x.example>"}),
        ("reply domain with an @", {"reply_domain": "a@b.example"}),
        ("reply domain without a dot", {"reply_domain": "localhost"}),
        ("public url without scheme", {"public_url": "konsultacje.example"}),
        ("short token secret", {"token_secret": b"short"}),
        ("no organisation", {"organisation": " "}),
        ("zero timeout", {"timeout": 0}),
        ("unknown language", {"language": "de"}),
    ],
)
def test_constructor_rejects_table(label: str, overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        offline_channel(**overrides)


# --- sending ---------------------------------------------------------------------------------------

Expected = tuple[list[str], list[str], list[str]]  # plain text contains, html contains, html must not contain


def links(token: str, *keys: str) -> list[str]:
    return [f"{PUBLIC_URL}/answer/{token}/{key}" for key in keys]


@pytest.mark.parametrize(
    ("label", "outbound", "overrides", "lang", "plain_has", "html_has"),
    [
        (
            "a text without choices",
            Outbound("q:1:7:thanks:1", "email", RESIDENT, "Dziękujemy za udział!"),
            {},
            "pl",
            ["Dziękujemy za udział!"],
            ["<p", "Dziękujemy za udział!"],
        ),
        (
            "numbered choices: a numbered list and an answer link each",
            Outbound("q:1:7:park:1", "email", RESIDENT, QUESTION, PARK),
            {},
            "pl",
            ["1) Tak", "2) Nie", "3) Nie mam zdania", "odpisz na tę wiadomość jej numerem", "/answer/"],
            ["<ol", ">Tak</a>", ">Nie mam zdania</a>", "jej numerem"],
        ),
        (
            "a scale answered by value",
            Outbound("q:1:7:rate:1", "email", RESIDENT, "Oceń park od 1 do 5", SCALE, choice_style="values"),
            {},
            "pl",
            ["Oceń park od 1 do 5", "wybraną wartością", "/answer/"],
            ["<ul", ">5</a>"],
        ),
        (
            "several answers: numbered lines and no links",
            Outbound("q:1:7:topics:1", "email", RESIDENT, "Co poprawić?", TOPICS, choice_style="multi"),
            {},
            "pl",
            ["1) ławki", "3) oświetlenie", "np. 1,3"],
            ["<ol", '<li style="margin:8px 0">ławki</li>'],
        ),
        (
            "in English",
            Outbound("q:1:8:park:1", "email", RESIDENT, "More benches in Oruński Park?", PARK),
            {"language": "en"},
            "en",
            ["Click an answer, or reply", "Unsubscribe: "],
            ["A message from: Miasto Gdańsk"],
        ),
        (
            "in Ukrainian",
            Outbound("q:1:9:park:1", "email", RESIDENT, "Більше лавок у парку?", PARK),
            {"language": "uk"},
            "uk",
            ["Більше лавок у парку?", "Відпишіться"],
            ["Повідомлення від"],
        ),
        (
            "markup in the text is text",
            Outbound("q:1:7:x:1", "email", RESIDENT, "Czy <b>to</b> & <script>x()</script> działa?"),
            {},
            "pl",
            ["Czy <b>to</b> & <script>x()</script> działa?"],
            ["Czy &lt;b&gt;to&lt;/b&gt; &amp; &lt;script&gt;"],
        ),
        (
            "several paragraphs",
            Outbound("q:1:7:y:1", "email", RESIDENT, "Dzień dobry!\n\nCzy chcesz\nwięcej ławek?"),
            {},
            "pl",
            ["Dzień dobry!\n\nCzy chcesz\nwięcej ławek?"],
            ["Dzień dobry!</p>", "Czy chcesz<br>\nwięcej ławek?</p>"],
        ),
    ],
)
async def test_send_table(
    smtp: SmtpServer,
    make_channel: ChannelFactory,
    label: str,
    outbound: Outbound,
    overrides: dict[str, Any],
    lang: str,
    plain_has: list[str],
    html_has: list[str],
) -> None:
    channel = make_channel(**overrides)
    sent = await channel.send(outbound)

    [received] = smtp.messages
    token = reply_token(SECRET, outbound.key)
    assert sent == Sent(provider_id=f"{token}@{REPLY_DOMAIN}"), label
    assert (received.mail_from, received.rcpt_tos, received.login) == (SENDER, (RESIDENT,), "outreach"), label

    message = received_message(received.content)
    assert message["From"].addresses[0].display_name == ORGANISATION
    assert message["From"].addresses[0].addr_spec == SENDER
    assert str(message["To"]) == RESIDENT
    assert str(message["Subject"]) == subject_of(outbound.text)
    assert str(message["Reply-To"]) == f"reply+{token}@{REPLY_DOMAIN}"
    assert str(message["Message-ID"]) == f"<{token}@{REPLY_DOMAIN}>"
    assert str(message["List-Unsubscribe"]) == (
        f"<{PUBLIC_URL}/unsubscribe/{token}>, <mailto:unsubscribe+{token}@{REPLY_DOMAIN}>"
    )
    assert str(message["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    assert str(message["Content-Language"]) == lang
    assert message["Auto-Submitted"] is None  # a personal question, which auto-responders may answer
    assert message["Date"] is not None and message["Date"].datetime.tzinfo is not None
    assert message.get_content_type() == "multipart/alternative"
    # Unfolded on the wire: a folded List-Unsubscribe turns into encoded words no client follows.
    assert f"List-Unsubscribe: <{PUBLIC_URL}/unsubscribe/{token}>".encode() in received.content
    assert all(len(line) <= 998 for line in received.content.split(b"\r\n"))

    plain, html = parts(message)
    for fragment in plain_has:
        assert fragment in plain, f"{label}: {fragment!r} not in the text part"
    for fragment in html_has:
        assert fragment in html, f"{label}: {fragment!r} not in the HTML part"
    assert f"{PUBLIC_URL}/unsubscribe/{token}" in plain and f"{PUBLIC_URL}/unsubscribe/{token}" in html
    assert f'<html lang="{lang}">' in html
    assert "<img" not in html.lower() and "background-image" not in html.lower()
    anchors = re.findall(r'<a href="([^"]+)"', html)
    if outbound.choices and outbound.choice_style != "multi":
        expected = links(token, *(choice.key for choice in outbound.choices))
        assert anchors[:-1] == expected, label  # one link per choice, then the unsubscribe link
        assert all(url in plain for url in expected), label
    else:
        assert anchors == [f"{PUBLIC_URL}/unsubscribe/{token}"], label
        assert "/answer/" not in plain


async def test_answer_link_keys_are_url_quoted(smtp: SmtpServer, make_channel: ChannelFactory) -> None:
    choices = (Choice("a b/c?d", "odd"), Choice("zażółć", "pl"))
    await make_channel().send(Outbound("q:1:7:k:1", "email", RESIDENT, "?", choices))
    _, html = parts(received_message(smtp.messages[0].content))
    token = reply_token(SECRET, "q:1:7:k:1")
    assert f"{PUBLIC_URL}/answer/{token}/a%20b%2Fc%3Fd" in html
    assert f"{PUBLIC_URL}/answer/{token}/za%C5%BC%C3%B3%C5%82%C4%87" in html


async def test_the_same_outbox_row_sent_twice_has_one_message_id(
    smtp: SmtpServer, make_channel: ChannelFactory
) -> None:
    channel = make_channel()
    first = await channel.send(Outbound("q:1:7:park:1", "email", RESIDENT, QUESTION, PARK))
    second = await channel.send(Outbound("q:1:7:park:1", "email", RESIDENT, QUESTION, PARK))
    other = await channel.send(Outbound("q:1:7:park:2", "email", RESIDENT, QUESTION, PARK))
    assert first == second != other
    ids = [str(received_message(message.content)["Message-ID"]) for message in smtp.messages]
    assert ids[0] == ids[1] != ids[2]


async def test_send_without_authentication() -> None:
    async with SmtpServer(user=None) as server:
        channel = EmailChannel(**channel_kwargs(server.port, smtp_user=None, smtp_password=None))
        await channel.send(Outbound("k", "email", RESIDENT, QUESTION))
    [received] = server.messages
    assert received.login is None


@pytest.mark.parametrize("mode", ["starttls", "tls"])
async def test_send_over_tls(certificate: Certificate, mode: TlsMode) -> None:
    async with SmtpServer(tls=mode, certificate=certificate) as server:
        channel = EmailChannel(
            **channel_kwargs(server.port, tls=mode, tls_context=certificate.client_context()),
        )
        await channel.send(Outbound("k", "email", RESIDENT, QUESTION, PARK))
    [received] = server.messages
    assert received.tls and received.login == "outreach"


async def test_an_international_domain_goes_as_idna() -> None:
    async with SmtpServer() as server:
        await EmailChannel(**channel_kwargs(server.port)).send(
            Outbound("k", "email", "Anna@Przykład.example", QUESTION)
        )
    [received] = server.messages
    assert received.rcpt_tos == ("Anna@xn--przykad-rjb.example",) and not received.mail_options
    assert str(received_message(received.content)["To"]) == "Anna@xn--przykad-rjb.example"


async def test_an_international_local_part_needs_smtputf8() -> None:
    address = "zażółć@przykład.example"
    async with SmtpServer(smtputf8=True) as server:
        await EmailChannel(**channel_kwargs(server.port)).send(Outbound("k", "email", address, QUESTION))
    [received] = server.messages
    assert received.rcpt_tos == ("zażółć@xn--przykad-rjb.example",) and "SMTPUTF8" in received.mail_options
    assert "zażółć@xn--przykad-rjb.example".encode() in received.content  # raw UTF-8, no encoded words

    async with SmtpServer(smtputf8=False) as server:
        with pytest.raises(SendError) as raised:
            await EmailChannel(**channel_kwargs(server.port)).send(Outbound("k", "email", address, QUESTION))
    assert raised.value.address_invalid and not raised.value.retryable
    assert not server.messages


@pytest.mark.parametrize(
    "address",
    ["not-an-address", "@example.org", "anna@", "", "anna nowak@example.org", "anna@localhost", "a..b@example.org"],
)
async def test_an_unusable_address_never_reaches_the_server(
    smtp: SmtpServer, make_channel: ChannelFactory, address: str
) -> None:
    with pytest.raises(SendError) as raised:
        await make_channel().send(Outbound("k", "email", address, QUESTION))
    assert raised.value.address_invalid and not raised.value.retryable
    assert not smtp.messages and not smtp.data_seen


# --- errors ----------------------------------------------------------------------------------------

Script = Callable[[SmtpServer], None]
ErrorExpected = tuple[bool, bool, str] | type[BaseException]  # (retryable, address_invalid, words)


@pytest.mark.parametrize(
    ("label", "script", "overrides", "expected"),
    [
        (
            "550 5.1.1 user unknown",
            lambda s: s.refuse_rcpt(RESIDENT, f"550 5.1.1 <{RESIDENT}>: Recipient address rejected: User unknown"),
            {},
            (False, True, "550 5.1.1"),
        ),
        (
            "553 5.1.3 bad address syntax",
            lambda s: s.refuse_rcpt(RESIDENT, "553 5.1.3 Bad recipient address syntax"),
            {},
            (False, True, "553"),
        ),
        (
            "550 without an enhanced code",
            lambda s: s.refuse_rcpt(RESIDENT, "550 No such user"),
            {},
            (False, True, "550"),
        ),
        (
            "550 5.7.1 relaying denied is our problem, not the address's",
            lambda s: s.refuse_rcpt(RESIDENT, "550 5.7.1 Relaying denied"),
            {},
            (False, False, "policy"),
        ),
        (
            "451 4.3.0 on RCPT: greylisting",
            lambda s: s.refuse_rcpt(RESIDENT, f"451 4.7.1 <{RESIDENT}>: Recipient address rejected: Greylisted"),
            {},
            (True, False, "451 4.7.1"),
        ),
        ("450 mailbox busy", lambda s: s.refuse_rcpt(RESIDENT, "450 4.2.1 Mailbox busy"), {}, (True, False, "450")),
        ("452 too many recipients", lambda s: s.refuse_rcpt(RESIDENT, "452 4.5.3 Too many"), {}, (True, False, "452")),
        ("421 on MAIL", lambda s: s.refuse_mail("421 4.3.2 Service not available"), {}, (True, False, "421")),
        ("553 sender refused", lambda s: s.refuse_mail("553 5.7.1 Sender not owned"), {}, (False, False, "553")),
        ("554 on the content", lambda s: s.refuse_data("554 5.6.0 Message rejected"), {}, (False, False, "554")),
        ("451 on the content", lambda s: s.refuse_data("451 4.3.0 Try later"), {}, (True, False, "451")),
        ("535 wrong password", lambda s: None, {"smtp_password": "wrong"}, (False, False, "credentials")),
        ("STARTTLS asked of a server without it", lambda s: None, {"tls": "starttls"}, (False, False, "STARTTLS")),
        ("no AUTH on the server", lambda s: setattr(s, "offer_auth", False), {}, (False, False, "AUTH")),
        ("a server hanging after DATA: unknown outcome", lambda s: s.hang_after_data(), {"timeout": 1.0}, TimeoutError),
        (
            "a connection dropped after DATA: unknown outcome",
            lambda s: s.drop_after_data(),
            {},
            aiosmtplib.SMTPServerDisconnected,
        ),
    ],
)
async def test_send_error_table(
    label: str,
    script: Script,
    overrides: dict[str, Any],
    expected: ErrorExpected,
) -> None:
    server = SmtpServer()
    script(server)
    async with server:
        channel = EmailChannel(**channel_kwargs(server.port, **overrides))
        began = time.monotonic()
        with pytest.raises(BaseException) as raised:
            await channel.send(Outbound("q:1:7:park:1", "email", RESIDENT, QUESTION, PARK))
        error = raised.value
    assert not server.messages, label
    if isinstance(expected, type):
        assert isinstance(error, expected) and not isinstance(error, SendError), f"{label}: {error!r}"
        assert server.data_seen, f"{label}: the content was not sent"
        assert time.monotonic() - began < 3, label
        return
    assert isinstance(error, SendError), f"{label}: {error!r}"
    retryable, address_invalid, words = expected
    assert (error.retryable, error.address_invalid, error.stop_contact) == (retryable, address_invalid, False), label
    assert words in str(error), f"{label}: {error}"
    # Logged and stored: never the address nor the text, not even in the chained exceptions.
    logged = "".join(traceback.format_exception(error))
    for secret in (RESIDENT, RESIDENT.split("@")[0], QUESTION):
        assert secret not in logged, label


@pytest.mark.parametrize("mode", ["tls", "starttls"])
async def test_an_untrusted_certificate_is_a_configuration_error(certificate: Certificate, mode: TlsMode) -> None:
    async with SmtpServer(tls=mode, certificate=certificate) as server:
        channel = EmailChannel(**channel_kwargs(server.port, tls=mode))  # the system's CAs: ours is not one
        with pytest.raises(SendError) as raised:
            await channel.send(Outbound("k", "email", RESIDENT, QUESTION))
    assert not raised.value.retryable and "certificate" in str(raised.value)
    assert not server.messages


async def test_connection_refused_is_retryable() -> None:
    server = SmtpServer()
    port = await server.start()
    await server.stop()
    with pytest.raises(SendError) as raised:
        await EmailChannel(**channel_kwargs(port)).send(Outbound("k", "email", RESIDENT, QUESTION))
    assert raised.value.retryable and "nothing was sent" in str(raised.value)


@contextlib.contextmanager
def full_accept_queue() -> Iterator[int]:
    """A port whose accept queue is full: connections never open (SYNs are dropped)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    fillers: list[socket.socket] = []
    try:
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            fillers.append(filler)
            with contextlib.suppress(BlockingIOError):
                filler.connect(listener.getsockname())
        yield listener.getsockname()[1]
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


async def test_timeout_while_connecting_is_retryable() -> None:
    with full_accept_queue() as port, pytest.raises(SendError) as raised:
        await EmailChannel(**channel_kwargs(port, timeout=0.5)).send(Outbound("k", "email", RESIDENT, QUESTION))
    assert raised.value.retryable


async def test_a_server_that_never_greets_is_retryable() -> None:
    finished = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # says nothing until the client gives up
        writer.close()
        await writer.wait_closed()
        finished.set()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(SendError) as raised:
            await EmailChannel(**channel_kwargs(port, timeout=0.5)).send(Outbound("k", "email", RESIDENT, QUESTION))
        await asyncio.wait_for(finished.wait(), timeout=5)
    finally:
        server.close()
        await server.wait_closed()
    assert raised.value.retryable


# --- reading replies -------------------------------------------------------------------------------

NOW = datetime(2027, 3, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "inbound", "status"),
    [
        (
            "02_gmail_pl.eml",
            (
                "CAJw3kq9Pq+V7nX2z1Lr8mT0YsE=Ab1Q@mail.gmail.com",
                "m.zielinska.gda@gmail.com",
                "Tak, zdecydowanie.",
                None,
            ),
            None,
        ),
        ("03_outlook_pl.eml", (None, "anna.nowak.gdansk@outlook.com", "2", None), None),
        ("22_unsubscribe_mailto.eml", (None, "jane.doe.gdansk@gmail.com", "", "stop"), None),
        ("17_auto_submitted.eml", None, None),
        ("18_automatyczna_odpowiedz.eml", None, None),
        ("19_x_autoreply.eml", None, None),
        ("20_dsn_5_1_1.eml", None, (f"k7xq2m4n6p3r5s7t2v4w6y3z5a7b2c4d@{REPLY_DOMAIN}", "failed", "5.1.1")),
        ("21_dsn_delayed.eml", None, None),  # the server keeps trying: nothing decided
    ],
)
def test_read_table(
    name: str,
    inbound: tuple[str | None, str, str, str | None] | None,
    status: tuple[str, str, str] | None,
) -> None:
    channel = offline_channel(reply_domain=REPLY_DOMAIN)
    event = channel.read((FIXTURES / name).read_bytes(), now=NOW)
    assert event.parsed is not None
    if inbound is None:
        assert event.inbound is None
    else:
        assert event.inbound is not None
        provider_id, address, text, command = inbound
        got = event.inbound
        assert (got.channel, got.address, got.text, got.command, got.received_at) == (
            "email",
            address,
            text,
            command,
            NOW,
        )
        assert got.provider_id == (provider_id or event.parsed.message_id)
    if status is None:
        assert event.status is None
    else:
        assert event.status is not None
        assert (event.status.channel, event.status.provider_id, event.status.status, event.status.error_code) == (
            "email",
            *status,
        )


OUR_BOUNCE_ID = "k7xq2m4n6p3r5s7t2v4w6y3z5a7b2c4d@odpowiedzi.konsultacje.example"


@pytest.mark.parametrize(
    ("named", "reported"),
    [
        (OUR_BOUNCE_ID, OUR_BOUNCE_ID),
        (OUR_BOUNCE_ID.upper(), OUR_BOUNCE_ID),  # a server that folded the case: still ours
        ("1", None),  # a Telegram message's id
        ("SM" + "0" * 32, None),  # a Twilio one's
        ("abc@odpowiedzi.konsultacje.example", None),  # our domain, no token
        ("k7xq2m4n6p3r5s7t2v4w6y3z5a7b2c4d@mail.example.org", None),  # a token's shape, another domain
        ("k7xq2m4n6p3r5s7t2v4w6y3z5a7b2c4d@odpowiedzi.konsultacje.example.evil", None),
    ],
)
def test_a_bounce_reports_only_on_message_ids_of_ours_table(named: str, reported: str | None) -> None:
    """Anyone can mail a report: it names a send of ours only by the full Message-ID we generate."""
    raw = (FIXTURES / "20_dsn_5_1_1.eml").read_bytes().replace(OUR_BOUNCE_ID.encode(), named.encode())
    event = offline_channel(reply_domain=REPLY_DOMAIN).read(raw, now=NOW)
    assert (event.status.provider_id if event.status else None) == reported
    assert event.inbound is None


def test_parse_inbound_and_parse_status_take_the_raw_mail_as_body() -> None:
    channel = offline_channel()
    reply = Request(url="imap:INBOX/1", body=(FIXTURES / "16_answer_number.eml").read_bytes())
    bounce = Request(url="imap:INBOX/2", body=(FIXTURES / "20_dsn_5_1_1.eml").read_bytes())
    [inbound] = channel.parse_inbound(reply)
    assert (inbound.address, inbound.text) == ("marek.nowicki@wp.pl", "2")
    assert channel.parse_status(reply) == []
    assert channel.parse_inbound(bounce) == []
    [status] = channel.parse_status(bounce)
    assert status.status == "failed"
    assert not channel.verify(reply)  # no webhook: mail only comes from the mailbox
    with pytest.raises(InvalidRequest):
        channel.parse_inbound(Request(url="imap:INBOX/3"))


async def test_a_reply_to_a_sent_question_finds_its_message(smtp: SmtpServer, make_channel: ChannelFactory) -> None:
    """Round trip: send, reply as a client does (to Reply-To, In-Reply-To, quoting), read back."""
    channel = make_channel()
    sent = await channel.send(Outbound("q:1:7:park:1", "email", RESIDENT, QUESTION, PARK))
    question = received_message(smtp.messages[0].content)
    plain, _ = parts(question)

    reply = EmailMessage(policy=policy.SMTP)
    reply["From"] = f"Anna Nowak <{RESIDENT}>"
    reply["To"] = str(question["Reply-To"])
    reply["Subject"] = "Re: " + str(question["Subject"])
    reply["Message-ID"] = "<reply-1@example.org>"
    reply["In-Reply-To"] = str(question["Message-ID"])
    reply["References"] = str(question["Message-ID"])
    quoted = "\n".join("> " + line if line else ">" for line in plain.splitlines())
    reply.set_content(f"2\n\nW dniu wt., 2 mar 2027 o 10:00 {ORGANISATION} <{SENDER}>\nnapisał(a):\n\n{quoted}\n")

    event = channel.read(reply.as_bytes(), now=NOW)
    assert event.parsed is not None and event.inbound is not None
    assert event.parsed.token is not None
    assert channel.message_id(event.parsed.token) == sent.provider_id
    assert (event.inbound.provider_id, event.inbound.address, event.inbound.text) == (
        "reply-1@example.org",
        RESIDENT,
        "2",
    )
