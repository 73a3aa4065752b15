"""The Twilio channel, courier style: the real SDK over real sockets to the loopback stand-in.

Outbound rows assert every form field Twilio received; error rows assert the SendError class and that
nothing was sent twice; webhook rows are framework-free requests in, parsed events out.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import socket
import time
import traceback
import warnings
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

import aiohttp
import pytest
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from channels.base import (
    Channel,
    Choice,
    InvalidRequest,
    Outbound,
    OutcomeUnknown,
    Request,
    SendError,
    Sent,
    render_plain,
)
from channels.sms_segments import count_segments, fold_to_gsm
from channels.standins.twilio import TwilioStandIn
from channels.twilio_sms import (
    SDK_DEPRECATIONS,
    TwilioChannel,
    empty_twiml,
)
from tests.providers import SMS_FROM as SENDER
from tests.providers import TWILIO_ACCOUNT_SID as ACCOUNT_SID
from tests.providers import TWILIO_AUTH_TOKEN as AUTH_TOKEN
from tests.providers import TWILIO_SERVICE_SID as SERVICE_SID

RESIDENT = "+48600100200"
PUBLIC_URL = "https://outreach.example.gda.pl"
STATUS_CALLBACK = PUBLIC_URL + "/webhooks/twilio/status#rc=5&rp=all"  # Twilio retries our 503 with the override
INBOUND_URL = PUBLIC_URL + "/webhooks/twilio/sms"
QUESTION = "Czy chcesz więcej ławek w Parku Oruńskim?"

# 140 characters of Polish: 3 UCS-2 segments as written, 1 GSM-7 segment folded (TECH_NOTES).
LONG_POLISH = (
    "Dzień dobry! Miasto Gdańsk pyta o Park Oruński. Czy zgadzasz się, żeby przy stawie "
    "stanęły nowe ławki i oświetlenie? Odpowiedz TAK lub NIE."
)


class ChannelFactory(Protocol):
    async def __call__(self, **overrides: Any) -> TwilioChannel: ...


@pytest.fixture(autouse=True)
def _no_twilio_routing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TWILIO_REGION", raising=False)
    monkeypatch.delenv("TWILIO_EDGE", raising=False)


@pytest.fixture
async def standin() -> AsyncIterator[TwilioStandIn]:
    async with TwilioStandIn(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN) as running:
        yield running


def channel_kwargs(base_url: str, **overrides: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "name": "sms",
        "account_sid": ACCOUNT_SID,
        "auth_token": AUTH_TOKEN,
        "sender": SENDER,
        "api_base_url": base_url,
        "public_url": PUBLIC_URL,
    }
    kwargs.update(overrides)
    return kwargs


@pytest.fixture
async def make_channel(standin: TwilioStandIn) -> AsyncIterator[ChannelFactory]:
    started: list[TwilioChannel] = []

    async def make(**overrides: Any) -> TwilioChannel:
        channel = TwilioChannel(**channel_kwargs(standin.base_url, **overrides))
        await channel.start()
        started.append(channel)
        return channel

    yield make
    for channel in started:
        await channel.close()


def offline_channel(name: str = "sms") -> TwilioChannel:
    """A channel that is never started: webhooks need no network."""
    return TwilioChannel(**channel_kwargs("http://127.0.0.1:9", name=name))


def test_twilio_is_a_channel() -> None:
    channel = offline_channel()
    assert isinstance(channel, Channel)
    assert (channel.capabilities.max_length, channel.capabilities.buttons) == (1600, False)
    assert channel.capabilities.signed_webhooks


# --- construction --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "overrides"),
    [
        ("neither sender nor service", {"sender": None}),
        ("both sender and service", {"messaging_service_sid": SERVICE_SID}),
        ("unknown name", {"name": "mms"}),
        ("api url without scheme", {"api_base_url": "127.0.0.1:8000"}),
        ("public url without scheme", {"public_url": "outreach.example"}),
        ("relative callback path", {"status_callback_path": "webhooks/twilio/status"}),
        ("zero timeout", {"timeout": 0}),
        ("empty token", {"auth_token": ""}),
    ],
)
def test_constructor_rejects_table(label: str, overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        TwilioChannel(**channel_kwargs("http://127.0.0.1:9", **overrides))


async def test_send_before_start_is_a_programming_error() -> None:
    with pytest.raises(RuntimeError, match="start"):
        await offline_channel().send(Outbound("k", "sms", RESIDENT, QUESTION))


# --- outbound ----------------------------------------------------------------------------------

PARK_CHOICES = (Choice("weekly", "co tydzień"), Choice("monthly", "co miesiąc"), Choice("never", "wcale"))
SCALE = tuple(Choice(str(n), str(n)) for n in range(1, 6))


@pytest.mark.parametrize(
    ("label", "overrides", "outbound", "form", "segments"),
    [
        (
            "plain SMS from a number",
            {},
            Outbound("k1", "sms", RESIDENT, "Dziękujemy!"),
            {"To": RESIDENT, "From": SENDER, "Body": "Dziękujemy!", "StatusCallback": STATUS_CALLBACK},
            1,
        ),
        (
            "via a messaging service: Twilio counts segments once it picks a sender",
            {"sender": None, "messaging_service_sid": SERVICE_SID},
            Outbound("k2", "sms", RESIDENT, "Dziękujemy!"),
            {
                "To": RESIDENT,
                "MessagingServiceSid": SERVICE_SID,
                "Body": "Dziękujemy!",
                "StatusCallback": STATUS_CALLBACK,
            },
            None,
        ),
        (
            "WhatsApp prefixes both addresses",
            {"name": "whatsapp"},
            Outbound("k3", "whatsapp", RESIDENT, "Dziękujemy!"),
            {
                "To": "whatsapp:" + RESIDENT,
                "From": "whatsapp:" + SENDER,
                "Body": "Dziękujemy!",
                "StatusCallback": STATUS_CALLBACK,
            },
            1,
        ),
        (
            "WhatsApp sender already prefixed is not prefixed twice",
            {"name": "whatsapp", "sender": "whatsapp:" + SENDER},
            Outbound("k4", "whatsapp", RESIDENT, "Tak"),
            {
                "To": "whatsapp:" + RESIDENT,
                "From": "whatsapp:" + SENDER,
                "Body": "Tak",
                "StatusCallback": STATUS_CALLBACK,
            },
            1,
        ),
        (
            "Polish as written costs 3 segments",
            {},
            Outbound("k5", "sms", RESIDENT, LONG_POLISH),
            {"To": RESIDENT, "From": SENDER, "Body": LONG_POLISH, "StatusCallback": STATUS_CALLBACK},
            3,
        ),
        (
            "Polish folded to GSM-7 costs 1",
            {"fold_diacritics": True},
            Outbound("k6", "sms", RESIDENT, LONG_POLISH + " „Tak” – dziękujemy…"),
            {
                "To": RESIDENT,
                "From": SENDER,
                "Body": (
                    "Dzien dobry! Miasto Gdansk pyta o Park Orunski. Czy zgadzasz sie, zeby przy stawie "
                    'stanely nowe lawki i oswietlenie? Odpowiedz TAK lub NIE. "Tak" - dziekujemy...'
                ),
                "StatusCallback": STATUS_CALLBACK,
            },
            2,
        ),
        (
            "Cyrillic is never folded",
            {"fold_diacritics": True},
            Outbound("k7", "sms", RESIDENT, "Дякуємо! Оцініть парк – від 1 до 5"),
            {
                "To": RESIDENT,
                "From": SENDER,
                "Body": "Дякуємо! Оцініть парк – від 1 до 5",
                "StatusCallback": STATUS_CALLBACK,
            },
            1,
        ),
        (
            "a scale answered by value",
            {},
            Outbound("k8", "sms", RESIDENT, "Oceń park od 1 do 5", SCALE, choice_style="values"),
            {
                "To": RESIDENT,
                "From": SENDER,
                "Body": "Oceń park od 1 do 5\n1 | 2 | 3 | 4 | 5",
                "StatusCallback": STATUS_CALLBACK,
            },
            1,
        ),
        (
            "a choice question becomes numbered lines",
            {},
            Outbound("k9", "sms", RESIDENT, "Jak często bywasz w parku?", PARK_CHOICES),
            {
                "To": RESIDENT,
                "From": SENDER,
                "Body": "Jak często bywasz w parku?\n1) co tydzień\n2) co miesiąc\n3) wcale",
                "StatusCallback": STATUS_CALLBACK,
            },
            1,
        ),
        (
            "numbered lines folded",
            {"fold_diacritics": True},
            Outbound("k10", "sms", RESIDENT, "Jak często bywasz w parku?", PARK_CHOICES),
            {
                "To": RESIDENT,
                "From": SENDER,
                "Body": "Jak czesto bywasz w parku?\n1) co tydzien\n2) co miesiac\n3) wcale",
                "StatusCallback": STATUS_CALLBACK,
            },
            1,
        ),
        (
            "own callback path, public URL with a trailing slash",
            {"public_url": PUBLIC_URL + "/", "status_callback_path": "/hooks/status"},
            Outbound("k11", "sms", RESIDENT, "Tak"),
            {"To": RESIDENT, "From": SENDER, "Body": "Tak", "StatusCallback": PUBLIC_URL + "/hooks/status#rc=5&rp=all"},
            1,
        ),
    ],
)
async def test_send_table(
    standin: TwilioStandIn,
    make_channel: ChannelFactory,
    label: str,
    overrides: dict[str, Any],
    outbound: Outbound,
    form: dict[str, str],
    segments: int | None,
) -> None:
    channel = await make_channel(**overrides)
    sent = await channel.send(outbound)

    [request] = standin.requests
    assert (request.method, request.path) == ("POST", f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"), label
    assert request.form == form, label
    credentials = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {credentials}"
    [message] = standin.messages
    assert sent == Sent(provider_id=message.sid, segments=segments), label
    assert sent.provider_id.startswith("SM") and len(sent.provider_id) == 34


def test_folded_row_matches_the_segment_counter() -> None:
    assert count_segments(LONG_POLISH).segments == 3
    assert count_segments(fold_to_gsm(LONG_POLISH)).segments == 1


@pytest.mark.parametrize("variable", ["TWILIO_EDGE", "TWILIO_REGION"])
async def test_edge_and_region_in_the_environment_do_not_reroute(
    standin: TwilioStandIn, make_channel: ChannelFactory, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, "ie1")
    channel = await make_channel()
    await channel.send(Outbound("k", "sms", RESIDENT, "Tak"))
    assert len(standin.requests) == 1


async def test_send_emits_no_warning(make_channel: ChannelFactory) -> None:
    """filterwarnings=error: a send raising the SDK's aiohttp deprecations would fail here."""
    channel = await make_channel()
    await channel.send(Outbound("k", "sms", RESIDENT, "Tak"))


@pytest.mark.parametrize(("message", "module"), SDK_DEPRECATIONS)
async def test_sdk_deprecations_are_silenced_only_where_the_sdk_raises_them(
    make_channel: ChannelFactory, message: str, module: str
) -> None:
    await make_channel()
    text = message + "; use aiohttp.encode_basic_auth() instead"
    warnings.warn_explicit(text, DeprecationWarning, "sdk.py", 1, module=module)  # ignored
    with pytest.raises(DeprecationWarning):
        warnings.warn_explicit(text, DeprecationWarning, "ours.py", 1, module="outreach.outbound.dispatcher")


async def test_concurrent_sends_keep_their_own_retry_after(
    standin: TwilioStandIn, make_channel: ChannelFactory
) -> None:
    other = "+48600100300"
    standin.script(to=RESIDENT, status=429, code=20429, retry_after="7")
    channel = await make_channel()
    limited, accepted = await asyncio.gather(
        channel.send(Outbound("a", "sms", RESIDENT, "Tak")),
        channel.send(Outbound("b", "sms", other, "Tak")),
        return_exceptions=True,
    )
    assert isinstance(limited, SendError) and limited.retry_after == 7.0
    assert isinstance(accepted, Sent)


# --- errors --------------------------------------------------------------------------------------

Script = Callable[[TwilioStandIn], None]
Expected = tuple[bool, bool, float | None, str] | type[BaseException]  # (retryable, stop, retry_after, words)


@pytest.mark.parametrize(
    ("label", "script", "overrides", "expected"),
    [
        (
            "21610 recipient replied STOP",
            lambda s: s.script(to=RESIDENT, status=400, code=21610),
            {},
            (False, True, None, "STOP"),
        ),
        (
            "21211 invalid To",
            lambda s: s.script(to=RESIDENT, status=400, code=21211),
            {},
            (False, False, None, "invalid"),
        ),
        (
            "21614 not a mobile number",
            lambda s: s.script(to=RESIDENT, status=400, code=21614),
            {},
            (False, False, None, "not a mobile"),
        ),
        (
            "21612 unreachable",
            lambda s: s.script(to=RESIDENT, status=400, code=21612),
            {},
            (False, False, None, "21612"),
        ),
        ("21408 region", lambda s: s.script(to=RESIDENT, status=400, code=21408), {}, (False, False, None, "region")),
        (
            "21606 bad sender",
            lambda s: s.script(to=RESIDENT, status=400, code=21606),
            {},
            (False, False, None, "21606"),
        ),
        (
            "429 with Retry-After",
            lambda s: s.fail_next(status=429, code=20429, retry_after="7"),
            {},
            (True, False, 7.0, "too many"),
        ),
        (
            "429 with Retry-After as a past HTTP date",
            lambda s: s.fail_next(status=429, code=20429, retry_after="Wed, 21 Oct 2015 07:28:00 GMT"),
            {},
            (True, False, 0.0, "too many"),
        ),
        (
            "20429 without Retry-After",
            lambda s: s.fail_next(status=429, code=20429),
            {},
            (True, False, None, "too many"),
        ),
        ("500 server error", lambda s: s.fail_next(status=500, code=20500), {}, (True, False, None, "not created")),
        ("503 unavailable", lambda s: s.fail_next(status=503, code=20503), {}, (True, False, None, "not created")),
        ("401 wrong auth token", lambda s: None, {"auth_token": "wrong"}, (False, False, None, "credentials")),
        ("a gateway's 504 after Twilio created it: unknown", lambda s: s.gateway_error_next(), {}, OutcomeUnknown),
        ("a gateway's 502: unknown", lambda s: s.gateway_error_next(status=502), {}, OutcomeUnknown),
        ("400 other refusal", lambda s: s.fail_next(status=400, code=21617), {}, (False, False, None, "refused")),
        ("hanging API with timeout=1.0: unknown outcome", lambda s: s.hang_next(), {"timeout": 1.0}, TimeoutError),
        (
            "connection dropped after the request: unknown outcome",
            lambda s: s.drop_next(),
            {},
            aiohttp.ServerDisconnectedError,
        ),
    ],
)
async def test_send_error_table(
    standin: TwilioStandIn,
    make_channel: ChannelFactory,
    label: str,
    script: Script,
    overrides: dict[str, Any],
    expected: Expected,
) -> None:
    script(standin)
    channel = await make_channel(**overrides)
    began = time.monotonic()
    with pytest.raises(BaseException) as raised:
        await channel.send(Outbound("k", "sms", RESIDENT, QUESTION))
    error = raised.value

    assert len(standin.requests) == 1, f"{label}: sent {len(standin.requests)} times"  # the SDK never retries
    # Only behind a gateway does the message exist: exactly what makes its outcome unknown.
    assert len(standin.messages) == (expected is OutcomeUnknown), label
    if isinstance(expected, type):
        assert type(error) is expected, label
        assert not isinstance(error, SendError)
        assert time.monotonic() - began < 3, label
        return
    assert isinstance(error, SendError), label
    retryable, stop_contact, retry_after, words = expected
    assert (error.retryable, error.stop_contact, error.retry_after) == (retryable, stop_contact, retry_after), label
    assert words in str(error), label
    # Logged and stored: never the number nor the text, not even in the chained exceptions.
    logged = "".join(traceback.format_exception(error))
    for secret in (RESIDENT, RESIDENT[3:], QUESTION):
        assert secret not in logged, label


async def test_connection_refused_is_retryable() -> None:
    standin = TwilioStandIn(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN)
    base_url = await standin.start()
    await standin.stop()
    channel = TwilioChannel(**channel_kwargs(base_url))
    await channel.start()
    try:
        with pytest.raises(SendError) as raised:
            await channel.send(Outbound("k", "sms", RESIDENT, QUESTION))
    finally:
        await channel.close()
    assert raised.value.retryable and not raised.value.stop_contact
    assert not standin.requests


async def test_timeout_while_connecting_is_retryable() -> None:
    """A full accept queue drops SYNs: the connection never opens, so nothing reached Twilio."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers: list[socket.socket] = []
    channel = TwilioChannel(**channel_kwargs(f"http://127.0.0.1:{port}", timeout=0.5))
    try:
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            fillers.append(filler)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", port))
        await channel.start()
        with pytest.raises(SendError) as raised:
            await channel.send(Outbound("k", "sms", RESIDENT, QUESTION))
    finally:
        await channel.close()
        for filler in fillers:
            filler.close()
        listener.close()
    assert raised.value.retryable and "never left" in str(raised.value)


async def test_a_send_after_a_5xx_is_a_new_single_request(standin: TwilioStandIn, make_channel: ChannelFactory) -> None:
    """The caller retries, once per decision; the SDK on its own never re-POSTs."""
    standin.fail_next(status=500, code=20500)
    channel = await make_channel()
    with pytest.raises(SendError):
        await channel.send(Outbound("k", "sms", RESIDENT, "Tak"))
    sent = await channel.send(Outbound("k", "sms", RESIDENT, "Tak"))
    assert len(standin.requests) == 2
    assert [message.sid for message in standin.messages] == [sent.provider_id]


async def test_close_then_start_again(standin: TwilioStandIn) -> None:
    channel = TwilioChannel(**channel_kwargs(standin.base_url))
    await channel.start()
    await channel.close()
    await channel.start()
    try:
        await channel.send(Outbound("k", "sms", RESIDENT, "Tak"))
    finally:
        await channel.close()
    assert len(standin.messages) == 1


# --- inbound -------------------------------------------------------------------------------------

InboundExpected = tuple[str, str, str, str, bool] | type[Exception]  # channel, sid, address, text, opted out


def inbound_form(**fields: str) -> dict[str, str]:
    form = {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "Body": "Tak",
        "From": RESIDENT,
        "MessageSid": "SM" + "a" * 32,
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsMessageSid": "SM" + "a" * 32,
        "SmsStatus": "received",
        "To": SENDER,
    }
    form.update(fields)
    return {name: value for name, value in form.items() if value != "<absent>"}


SID_A = "SM" + "a" * 32


@pytest.mark.parametrize(
    ("label", "form", "expected"),
    [
        ("SMS reply", inbound_form(), ("sms", SID_A, RESIDENT, "Tak", False)),
        (
            "WhatsApp reply: prefix stripped",
            inbound_form(From="whatsapp:" + RESIDENT, To="whatsapp:" + SENDER, WaId="48600100200", ProfileName="Ala"),
            ("whatsapp", SID_A, RESIDENT, "Tak", False),
        ),
        (
            "Advanced Opt-Out STOP: Twilio already blocks the pair",
            inbound_form(Body="STOP", OptOutType="STOP", MessagingServiceSid=SERVICE_SID),
            ("sms", SID_A, RESIDENT, "STOP", True),
        ),
        (
            "OptOutType START is no opt-out",
            inbound_form(Body="START", OptOutType="START"),
            ("sms", SID_A, RESIDENT, "START", False),
        ),
        (
            "OptOutType HELP is no opt-out",
            inbound_form(Body="pomoc", OptOutType="HELP"),
            ("sms", SID_A, RESIDENT, "pomoc", False),
        ),
        ("plain STOP without Advanced Opt-Out", inbound_form(Body="stop"), ("sms", SID_A, RESIDENT, "stop", False)),
        ("text kept as sent", inbound_form(Body=" Так 👍 "), ("sms", SID_A, RESIDENT, " Так 👍 ", False)),
        ("media only: empty body", inbound_form(Body="", NumMedia="1"), ("sms", SID_A, RESIDENT, "", False)),
        ("no Body field", inbound_form(Body="<absent>"), ("sms", SID_A, RESIDENT, "", False)),
        ("missing MessageSid", inbound_form(MessageSid="<absent>"), InvalidRequest),
        ("empty MessageSid", inbound_form(MessageSid=""), InvalidRequest),
        ("missing From", inbound_form(From="<absent>"), InvalidRequest),
        ("bare whatsapp: prefix", inbound_form(From="whatsapp:"), InvalidRequest),
    ],
)
@pytest.mark.parametrize("instance", ["sms", "whatsapp"])
def test_parse_inbound_table(label: str, form: dict[str, str], expected: InboundExpected, instance: str) -> None:
    channel = offline_channel(instance)  # either instance reads the shared webhook alike
    request = Request(url=INBOUND_URL, form=form)
    if isinstance(expected, type):
        with pytest.raises(expected):
            channel.parse_inbound(request)
        return
    [inbound] = channel.parse_inbound(request)
    got = (inbound.channel, inbound.provider_id, inbound.address, inbound.text, inbound.opted_out_by_provider)
    assert got == expected, label
    assert inbound.received_at.tzinfo is not None and inbound.tap is None and inbound.command is None


# --- status callbacks ---------------------------------------------------------------------------

StatusExpected = tuple[str, str, str, str | None] | type[Exception]  # channel, sid, status, error code


def status_form(**fields: str) -> dict[str, str]:
    form = {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "From": SENDER,
        "MessageSid": SID_A,
        "MessageStatus": "delivered",
        "SmsSid": SID_A,
        "SmsStatus": "delivered",
        "To": RESIDENT,
    }
    form.update(fields)
    return {name: value for name, value in form.items() if value != "<absent>"}


@pytest.mark.parametrize(
    ("label", "form", "expected"),
    [
        ("delivered", status_form(), ("sms", SID_A, "delivered", None)),
        ("sent", status_form(MessageStatus="sent", SmsStatus="sent"), ("sms", SID_A, "sent", None)),
        (
            "failed: unknown destination handset",
            status_form(MessageStatus="failed", ErrorCode="30003"),
            ("sms", SID_A, "failed", "30003"),
        ),
        (
            "undelivered: unknown destination",
            status_form(MessageStatus="undelivered", ErrorCode="30005"),
            ("sms", SID_A, "undelivered", "30005"),
        ),
        (
            "carrier violation",
            status_form(MessageStatus="undelivered", ErrorCode="30007"),
            ("sms", SID_A, "undelivered", "30007"),
        ),
        ("empty ErrorCode", status_form(ErrorCode=""), ("sms", SID_A, "delivered", None)),
        (
            "WhatsApp read",
            status_form(MessageStatus="read", To="whatsapp:" + RESIDENT, From="whatsapp:" + SENDER),
            ("whatsapp", SID_A, "read", None),
        ),
        (
            "legacy SmsSid/SmsStatus only",
            status_form(MessageSid="<absent>", MessageStatus="<absent>"),
            ("sms", SID_A, "delivered", None),
        ),
        ("missing status", status_form(MessageStatus="<absent>", SmsStatus="<absent>"), InvalidRequest),
        ("missing sid", status_form(MessageSid="<absent>", SmsSid="<absent>"), InvalidRequest),
    ],
)
def test_parse_status_table(label: str, form: dict[str, str], expected: StatusExpected) -> None:
    request = Request(url=STATUS_CALLBACK, form=form)
    if isinstance(expected, type):
        with pytest.raises(expected):
            offline_channel().parse_status(request)
        return
    [status] = offline_channel().parse_status(request)
    assert (status.channel, status.provider_id, status.status, status.error_code) == expected, label
    assert status.reported_at.tzinfo is not None


# --- signatures ----------------------------------------------------------------------------------

SIGNED_URL = INBOUND_URL + "?campaign=7"
SIGNED_FORM = inbound_form()


def signature(url: str = SIGNED_URL, form: dict[str, str] = SIGNED_FORM, token: str = AUTH_TOKEN) -> str:
    return str(RequestValidator(token).compute_signature(url, form))


@pytest.mark.parametrize(
    ("label", "url", "headers", "form", "verified"),
    [
        ("valid", SIGNED_URL, {"X-Twilio-Signature": signature()}, SIGNED_FORM, True),
        ("valid, header name in lower case", SIGNED_URL, {"x-twilio-signature": signature()}, SIGNED_FORM, True),
        (
            "valid without a query",
            INBOUND_URL,
            {"X-Twilio-Signature": signature(INBOUND_URL)},
            SIGNED_FORM,
            True,
        ),
        # Twilio may sign the URL with or without its port (RequestValidator.validate accepts both).
        (
            "valid, signed with the port the URL leaves out",
            SIGNED_URL,
            {"X-Twilio-Signature": signature(PUBLIC_URL + ":443/webhooks/twilio/sms?campaign=7")},
            SIGNED_FORM,
            True,
        ),
        (
            "valid, signed without the port the URL names",
            PUBLIC_URL + ":443/webhooks/twilio/sms?campaign=7",
            {"X-Twilio-Signature": signature()},
            SIGNED_FORM,
            True,
        ),
        (
            "signed with another port",
            SIGNED_URL,
            {"X-Twilio-Signature": signature(PUBLIC_URL + ":8443/webhooks/twilio/sms?campaign=7")},
            SIGNED_FORM,
            False,
        ),
        ("missing", SIGNED_URL, {}, SIGNED_FORM, False),
        ("empty", SIGNED_URL, {"X-Twilio-Signature": ""}, SIGNED_FORM, False),
        ("wrong: another token", SIGNED_URL, {"X-Twilio-Signature": signature(token="other")}, SIGNED_FORM, False),
        ("garbage", SIGNED_URL, {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}, SIGNED_FORM, False),
        (
            "tampered body",
            SIGNED_URL,
            {"X-Twilio-Signature": signature()},
            {**SIGNED_FORM, "Body": "Nie"},
            False,
        ),
        ("field added", SIGNED_URL, {"X-Twilio-Signature": signature()}, {**SIGNED_FORM, "OptOutType": "STOP"}, False),
        (
            "other path",
            PUBLIC_URL + "/webhooks/twilio/status?campaign=7",
            {"X-Twilio-Signature": signature()},
            SIGNED_FORM,
            False,
        ),
        ("other query", INBOUND_URL + "?campaign=8", {"X-Twilio-Signature": signature()}, SIGNED_FORM, False),
        ("query dropped", INBOUND_URL, {"X-Twilio-Signature": signature()}, SIGNED_FORM, False),
        (
            "other host (as seen behind a proxy)",
            "http://10.0.0.5:8080/webhooks/twilio/sms?campaign=7",
            {"X-Twilio-Signature": signature()},
            SIGNED_FORM,
            False,
        ),
    ],
)
def test_verify_table(label: str, url: str, headers: dict[str, str], form: dict[str, str], verified: bool) -> None:
    assert offline_channel().verify(Request(url=url, headers=headers, form=form)) is verified, label


def test_verify_with_another_token_fails() -> None:
    channel = TwilioChannel(**channel_kwargs("http://127.0.0.1:9", auth_token="rotated"))
    assert not channel.verify(Request(url=SIGNED_URL, headers={"X-Twilio-Signature": signature()}, form=SIGNED_FORM))


# --- small helpers -------------------------------------------------------------------------------


def test_empty_twiml() -> None:
    assert empty_twiml() == '<?xml version="1.0" encoding="UTF-8"?><Response />'


@pytest.mark.parametrize(
    ("label", "text", "folded"),
    [
        ("Polish lower case", "zażółć gęślą jaźń", "zazolc gesla jazn"),
        ("Polish capitals", "ZAŻÓŁĆ GĘŚLĄ JAŹŃ", "ZAZOLC GESLA JAZN"),
        ("typographic quotes and dashes", "„Tak” – ‘nie’ — “może”…", '"Tak" - \'nie\' - "moze"...'),
        ("non-breaking spaces", "1\u00a0000\u202fzł", "1 000 zl"),
        ("GSM-7 accents kept", "Café Müller, Ñoño à Ø", "Café Müller, Ñoño à Ø"),
        ("other Latin letters", "Čeština, Győr, Ñandú", "Cestina, Gyor, Ñandu"),
        ("plain ASCII unchanged", "Odpowiedz TAK lub NIE", "Odpowiedz TAK lub NIE"),
        ("Cyrillic never folded", "Дякуємо – від 1 до 5", "Дякуємо – від 1 до 5"),
        ("Polish beside Cyrillic stays as written", "Kraków / Краків", "Kraków / Краків"),
        ("an emoji keeps UCS-2: unchanged", "Dziękujemy 👍", "Dziękujemy 👍"),
        ("empty", "", ""),
    ],
)
def test_fold_to_gsm_table(label: str, text: str, folded: str) -> None:
    assert fold_to_gsm(text) == folded, label


def test_body_is_what_send_posts() -> None:
    outbound = Outbound("k", "sms", RESIDENT, "Jak często?", PARK_CHOICES)
    assert offline_channel().body(outbound) == render_plain(outbound)
    folding = TwilioChannel(**channel_kwargs("http://127.0.0.1:9", fold_diacritics=True))
    assert folding.body(outbound) == "Jak czesto?\n1) co tydzien\n2) co miesiac\n3) wcale"
