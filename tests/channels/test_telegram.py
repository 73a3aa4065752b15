"""The Telegram channel, courier style: tables of updates in, requests out, recorded answers back.

Sending goes through the real python-telegram-bot over HTTP to the Bot API stand-in on loopback;
reading updates is pure and needs no server (its table: tests/channels/test_telegram_updates.py).
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import unused_port
from telegram.error import NetworkError, TimedOut

from channels.base import (
    ButtonTap,
    Channel,
    Choice,
    Inbound,
    InvalidRequest,
    Outbound,
    Request,
    SendError,
)
from channels.standins.telegram import (
    BAD_GATEWAY,
    BLOCKED,
    CHAT_NOT_FOUND,
    DEACTIVATED,
    DROP,
    GATEWAY_TIMEOUT,
    HANG,
    NEVER_STARTED,
    SERVER_ERROR,
    Call,
    Fault,
    TelegramStandIn,
    too_many_requests,
)
from channels.telegram import ALLOWED_UPDATES, SECRET_HEADER, TelegramChannel, update_request
from channels.telegram_errors import TelegramApiError
from channels.telegram_updates import parse_update
from tests.channels.test_telegram_updates import message
from tests.providers import TELEGRAM_BOT_TOKEN as TOKEN
from tests.providers import TELEGRAM_WEBHOOK_SECRET as SECRET

CHAT = 4242001
DATE = 1804000000  # 2027-03-02 …, a message's own date
AT = datetime.fromtimestamp(DATE, UTC)


@pytest.fixture(autouse=True)
def ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB 22 warns on every RetryAfter unless opted in to timedeltas (the service sets this too)."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


@pytest.fixture
async def standin() -> AsyncIterator[TelegramStandIn]:
    async with TelegramStandIn(TOKEN, long_poll_cap=1.0, hang_seconds=5.0) as running:
        yield running


def make_channel(base_url: str, *, token: str = TOKEN, timeout: float = 2.0) -> TelegramChannel:
    return TelegramChannel(token=token, api_base_url=base_url, webhook_secret=SECRET, timeout=timeout)


@pytest.fixture
async def channel(standin: TelegramStandIn) -> AsyncIterator[TelegramChannel]:
    async with make_channel(standin.base_url) as started:
        yield started


def test_telegram_is_a_channel() -> None:
    channel = make_channel("http://127.0.0.1:9")
    assert isinstance(channel, Channel)
    assert channel.name == "telegram"
    assert (channel.capabilities.max_length, channel.capabilities.buttons) == (4096, True)
    assert channel.capabilities.signed_webhooks


async def test_start_asks_get_me(channel: TelegramChannel, standin: TelegramStandIn) -> None:
    assert standin.calls == [Call("getMe", {})]
    assert channel.username == "gdansk_pyta_bot"


# -- sending ---------------------------------------------------------------------------------------


def button(text: str, data: str) -> dict[str, str]:
    return {"text": text, "callback_data": data}


LONG_KEY = "a_new_tram_line_through_orunia_to_the_southern_districts_of_the_city"
POLISH_KEY = "ż" * 30  # 30 characters, 60 bytes: "a:3:q:" + key fits in characters, not in bytes
SCALE_5 = tuple(Choice(str(v), label) for v, label in enumerate(["1 - źle", "2", "3", "4", "5 - dobrze"], start=1))
SCALE_11 = tuple(Choice(str(v), str(v)) for v in range(11))


@pytest.mark.parametrize(
    ("label", "outbound", "expected"),
    [
        (
            "yes/no: two text buttons, one per row",
            Outbound(
                "q:3:17:uses_tram:0",
                "telegram",
                str(CHAT),
                "Czy jeździsz tramwajem?",
                (Choice("yes", "tak"), Choice("no", "nie")),
            ),
            {
                "chat_id": CHAT,
                "text": "Czy jeździsz tramwajem?",
                "reply_markup": {
                    "inline_keyboard": [[button("tak", "a:3:uses_tram:yes")], [button("nie", "a:3:uses_tram:no")]]
                },
            },
        ),
        (
            "a key too long for 64 bytes falls back to the option's number",
            Outbound(
                "q:3:17:route:1",
                "telegram",
                str(CHAT),
                "Którędy?",
                (Choice("short", "krótko"), Choice(LONG_KEY, "nowa linia")),
            ),
            {
                "chat_id": CHAT,
                "text": "Którędy?",
                "reply_markup": {
                    "inline_keyboard": [[button("krótko", "a:3:route:short")], [button("nowa linia", "i:3:route:2")]]
                },
            },
        ),
        (
            "the limit counts UTF-8 bytes, not characters",
            Outbound("q:3:17:q:0", "telegram", str(CHAT), "Jak?", (Choice(POLISH_KEY, "bardzo"),)),
            {
                "chat_id": CHAT,
                "text": "Jak?",
                "reply_markup": {"inline_keyboard": [[button("bardzo", "i:3:q:1")]]},
            },
        ),
        (
            "a key with a colon goes by number",
            Outbound("q:3:17:q:0", "telegram", str(CHAT), "Jak?", (Choice("a:b", "ab"),)),
            {"chat_id": CHAT, "text": "Jak?", "reply_markup": {"inline_keyboard": [[button("ab", "i:3:q:1")]]}},
        ),
        (
            "a scale in one row",
            Outbound("q:3:17:rating:0", "telegram", str(CHAT), "Oceń park", SCALE_5, "values"),
            {
                "chat_id": CHAT,
                "text": "Oceń park",
                "reply_markup": {
                    "inline_keyboard": [[button(c.label, f"a:3:rating:{c.key}") for c in SCALE_5]],
                },
            },
        ),
        (
            "a scale of 11 wraps into even rows of at most 8",
            Outbound("q:3:17:nps:0", "telegram", str(CHAT), "0-10?", SCALE_11, "values"),
            {
                "chat_id": CHAT,
                "text": "0-10?",
                "reply_markup": {
                    "inline_keyboard": [
                        [button(str(v), f"a:3:nps:{v}") for v in range(6)],
                        [button(str(v), f"a:3:nps:{v}") for v in range(6, 11)],
                    ],
                },
            },
        ),
        (
            "emoji-only labels get their number",
            Outbound(
                "q:3:17:mood:r1",
                "telegram",
                str(CHAT),
                "Jak się czujesz?",
                (Choice("up", "👍"), Choice("down", " 👎 "), Choice("meh", "🤷 meh")),
            ),
            {
                "chat_id": CHAT,
                "text": "Jak się czujesz?",
                "reply_markup": {
                    "inline_keyboard": [
                        [button("1) 👍", "a:3:mood:up")],
                        [button("2) 👎", "a:3:mood:down")],
                        [button("🤷 meh", "a:3:mood:meh")],
                    ]
                },
            },
        ),
        (
            "a plain message has no keyboard",
            Outbound("outro:3:17", "telegram", str(CHAT), "Dziękujemy!"),
            {"chat_id": CHAT, "text": "Dziękujemy!"},
        ),
        (
            "choices outside a question become numbered lines",
            Outbound("help:3:17", "telegram", str(CHAT), "Wybierz:", (Choice("a", "jeden"), Choice("b", "dwa"))),
            {"chat_id": CHAT, "text": "Wybierz:\n1) jeden\n2) dwa"},
        ),
        (
            "a multi question: a numbered toggle per option and a done button",
            Outbound(
                "q:3:17:which:0",
                "telegram",
                str(CHAT),
                "Które?",
                (Choice("a", "jeden"), Choice("b", "dwa")),
                "multi",
                submit_label="Gotowe",
            ),
            {
                "chat_id": CHAT,
                "text": "Które?",
                "reply_markup": {
                    "inline_keyboard": [
                        [button("☐ 1) jeden", "t:3:which:1")],
                        [button("☐ 2) dwa", "t:3:which:2")],
                        [button("✓ Gotowe", "d:3:which:ok")],
                    ]
                },
            },
        ),
        (
            "a multi question asked again shows the options picked before",
            Outbound(
                "q:3:17:which:r1",
                "telegram",
                str(CHAT),
                "Które?",
                (Choice("a", "jeden"), Choice("b", "dwa", picked=True)),
                "multi",
                submit_label="Gotowe",
            ),
            {
                "chat_id": CHAT,
                "text": "Które?",
                "reply_markup": {
                    "inline_keyboard": [
                        [button("☐ 1) jeden", "t:3:which:1")],
                        [button("☑ 2) dwa", "t:3:which:2")],
                        [button("✓ Gotowe", "d:3:which:ok")],
                    ]
                },
            },
        ),
        (
            "a multi question without a done label still gets a worded button",
            Outbound("q:3:17:which:1", "telegram", str(CHAT), "Które?", (Choice("a", "👍"),), "multi"),
            {
                "chat_id": CHAT,
                "text": "Które?",
                "reply_markup": {
                    "inline_keyboard": [[button("☐ 1) 👍", "t:3:which:1")], [button("✓ OK", "d:3:which:ok")]]
                },
            },
        ),
        (
            "a multi question whose done data cannot fit: numbered lines",
            Outbound(f"q:3:17:{'x' * 58}:0", "telegram", str(CHAT), "Które?", (Choice("a", "jeden"),), "multi"),
            {"chat_id": CHAT, "text": "Które?\n1) jeden"},
        ),
        (
            "a question id too long for any callback data: numbered lines",
            Outbound(f"q:3:17:{'x' * 60}:0", "telegram", str(CHAT), "Które?", (Choice("a", "jeden"),)),
            {"chat_id": CHAT, "text": "Które?\n1) jeden"},
        ),
        (
            "a scale never falls back to positions: values as a line",
            Outbound(f"q:3:17:{'x' * 56}:0", "telegram", str(CHAT), "Ile?", (Choice("1000", "1000"),), "values"),
            {"chat_id": CHAT, "text": "Ile?\n1000"},
        ),
    ],
)
async def test_send_table(
    channel: TelegramChannel, standin: TelegramStandIn, label: str, outbound: Outbound, expected: dict[str, Any]
) -> None:
    sent = await channel.send(outbound)
    [call] = standin.calls_to("sendMessage")
    assert call == Call("sendMessage", expected), label
    [message] = standin.messages(CHAT)
    assert sent.provider_id == str(message["message_id"])
    for row in expected.get("reply_markup", {}).get("inline_keyboard", []):
        for each in row:
            assert len(each["callback_data"].encode()) <= 64


# -- send errors -----------------------------------------------------------------------------------

TEXT = "Czy jeździsz tramwajem?"
QUESTION = Outbound("q:3:17:uses_tram:0", "telegram", str(CHAT), TEXT, (Choice("yes", "tak"), Choice("no", "nie")))


@pytest.mark.parametrize(
    ("label", "fault", "expected"),
    [
        ("blocked: stop contact", BLOCKED, (False, True, None, "blocked")),
        ("never started the bot", NEVER_STARTED, (False, False, None, "unreachable: never started the bot")),
        ("account deleted: stop contact", DEACTIVATED, (False, True, None, "deleted")),
        ("other 403", Fault(403, "Forbidden: bot is not a member of the channel chat"), (False, False, None, "forb")),
        ("chat not found", CHAT_NOT_FOUND, (False, False, None, "chat not found")),
        ("429 with its wait", too_many_requests(7), (True, False, 7.0, "retry after 7s")),
        ("429 without a wait", Fault(429, "Too Many Requests"), (True, False, None, "server error")),
        ("500 before any message", SERVER_ERROR, (True, False, None, "server error")),
        ("502 from a gateway: the outcome is unknown", BAD_GATEWAY, NetworkError),
        ("504 from a gateway: the outcome is unknown", GATEWAY_TIMEOUT, NetworkError),
        ("hang: the outcome is unknown", HANG, TimedOut),
        ("dropped connection: the outcome is unknown", DROP, NetworkError),
    ],
)
@pytest.mark.parametrize(
    "timedelta_env",
    [
        "1",
        # Without the opt-in PTB gives ints and warns (inside its own RetryAfter): both are read.
        pytest.param(None, marks=pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")),
    ],
)
async def test_send_error_table(
    standin: TelegramStandIn,
    monkeypatch: pytest.MonkeyPatch,
    label: str,
    fault: Fault,
    expected: tuple[bool, bool, float | None, str] | type[Exception],
    timedelta_env: str | None,
) -> None:
    if timedelta_env is None:
        monkeypatch.delenv("PTB_TIMEDELTA")
    standin.fail_chat(CHAT, fault)
    # Short enough for a hang to end the call soon; long enough that a loaded machine still connects.
    async with make_channel(standin.base_url, timeout=1.0 if fault.hang else 5.0) as channel:
        if isinstance(expected, type):
            with pytest.raises(expected) as unknown:
                await channel.send(QUESTION)
            assert not isinstance(unknown.value, SendError), label
            # The call took effect at Telegram: resending would duplicate the question.
            assert len(standin.messages(CHAT)) == 1
            return
        with pytest.raises(SendError) as raised:
            await channel.send(QUESTION)
    error = raised.value
    assert (error.retryable, error.stop_contact, error.retry_after) == expected[:3], label
    assert expected[3] in str(error).lower(), label
    assert str(CHAT) not in str(error) and TEXT not in str(error)
    assert standin.messages(CHAT) == []


async def test_connection_refused_is_retryable() -> None:
    channel = make_channel(f"http://127.0.0.1:{unused_port()}")
    try:
        with pytest.raises(SendError) as raised:
            await channel.send(QUESTION)
    finally:
        await channel.close()
    assert raised.value.retryable and not raised.value.stop_contact


async def test_rejected_token_is_permanent(standin: TelegramStandIn) -> None:
    channel = make_channel(standin.base_url, token="654321:wrong-token")
    try:
        with pytest.raises(SendError) as raised:
            await channel.send(QUESTION)
        with pytest.raises(TelegramApiError) as at_start:
            await channel.start()
    finally:
        await channel.close()
    assert not raised.value.retryable and "token" in str(raised.value)
    assert not at_start.value.retryable


async def test_a_rejected_token_is_not_in_the_error_raised(
    standin: TelegramStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    """PTB words a rejected getMe as "The token `…` was rejected": what we raise (its message, its
    args, the errors chained to it, a logged traceback) names the failure, never the token."""
    rejected = "654321:AAH-a_rejected_secret_part_0123456789"
    channel = make_channel(standin.base_url, token=rejected)
    try:
        with pytest.raises(TelegramApiError) as raised:
            await channel.start()
    finally:
        await channel.close()
    logging.getLogger(__name__).error("start failed", exc_info=raised.value)
    shown = "".join(traceback.format_exception(raised.value)) + repr(raised.value.args) + caplog.text
    assert "InvalidToken" in shown and "rejected" in str(raised.value)
    assert "a_rejected_secret_part_0123456789" not in shown


async def test_start_against_nothing_is_retryable() -> None:
    channel = make_channel(f"http://127.0.0.1:{unused_port()}")
    with pytest.raises(TelegramApiError) as raised:
        await channel.start()
    await channel.close()
    assert raised.value.retryable


async def test_a_non_numeric_address_is_permanent(channel: TelegramChannel, standin: TelegramStandIn) -> None:
    with pytest.raises(SendError) as raised:
        await channel.send(Outbound("k", "telegram", "@someone", "Hej"))
    assert not raised.value.retryable and "@someone" not in str(raised.value)
    assert standin.calls_to("sendMessage") == []


# -- the token stays out of the logs -------------------------------------------------------------


async def test_token_never_in_logs(standin: TelegramStandIn, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with make_channel(standin.base_url) as channel:
        await channel.send(QUESTION)
    assert all(TOKEN not in record.getMessage() for record in caplog.records)


async def test_token_redacted_even_when_loggers_are_turned_up(
    standin: TelegramStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    channel = make_channel(standin.base_url)
    for name in ("httpx", "telegram"):  # an operator debugging the HTTP layer
        caplog.set_level(logging.DEBUG, logger=name)
    async with channel:
        await channel.send(QUESTION)
    messages = [record.getMessage() for record in caplog.records]
    assert any("<token>/sendMessage" in message for message in messages)  # httpx's INFO line, redacted
    assert any("sendMessage (parameters withheld)" in message for message in messages)
    assert all(TOKEN not in message for message in messages)
    assert all(TEXT not in message and str(CHAT) not in message for message in messages)


# -- acknowledging taps ----------------------------------------------------------------------------


async def sent_question_tap(channel: TelegramChannel, standin: TelegramStandIn, data: str) -> ButtonTap:
    sent = await channel.send(QUESTION)
    [inbound] = parse_update(standin.callback_update(CHAT, data, int(sent.provider_id)))
    assert inbound.tap is not None
    return inbound.tap


async def test_acknowledge_a_taken_answer_shows_it_under_the_question(
    channel: TelegramChannel, standin: TelegramStandIn
) -> None:
    tap = await sent_question_tap(channel, standin, "a:3:uses_tram:yes")
    done = await channel.acknowledge_tap(
        tap, chat_id=str(CHAT), notice="Dziękujemy!", chosen_label="tak", question_text=TEXT
    )
    assert done
    assert standin.calls[-2:] == [
        Call("answerCallbackQuery", {"callback_query_id": tap.callback_id, "text": "Dziękujemy!"}),
        Call("editMessageText", {"chat_id": CHAT, "message_id": int(tap.message_id or 0), "text": f"{TEXT}\n\n✓ tak"}),
    ]
    [message] = standin.messages(CHAT)
    assert message["text"] == f"{TEXT}\n\n✓ tak" and "reply_markup" not in message


async def test_acknowledge_without_the_text_takes_the_keyboard_off(
    channel: TelegramChannel, standin: TelegramStandIn
) -> None:
    tap = await sent_question_tap(channel, standin, "a:3:uses_tram:no")
    assert await channel.acknowledge_tap(tap, chat_id=str(CHAT), notice="Zapisano", chosen_label="nie")
    assert standin.calls[-1] == Call(
        "editMessageReplyMarkup", {"chat_id": CHAT, "message_id": int(tap.message_id or 0)}
    )
    [message] = standin.messages(CHAT)
    assert message["text"] == TEXT and "reply_markup" not in message


async def test_acknowledge_a_tap_on_a_closed_question_only_answers_it(
    channel: TelegramChannel, standin: TelegramStandIn
) -> None:
    tap = await sent_question_tap(channel, standin, "a:3:uses_tram:yes")
    notice = "To pytanie jest już zamknięte, dziękujemy."
    assert await channel.acknowledge_tap(tap, chat_id=str(CHAT), notice=notice, chosen_label=None)
    assert standin.calls[-1] == Call("answerCallbackQuery", {"callback_query_id": tap.callback_id, "text": notice})
    [message] = standin.messages(CHAT)
    assert "reply_markup" in message


MULTI = Outbound(
    "q:3:17:which:0",
    "telegram",
    str(CHAT),
    "Które?",
    (Choice("a", "jeden"), Choice("b", "dwa"), Choice("c", "trzy")),
    "multi",
    submit_label="Gotowe",
)


async def test_show_selection_ticks_the_picked_options(channel: TelegramChannel, standin: TelegramStandIn) -> None:
    sent = await channel.send(MULTI)
    [inbound] = parse_update(standin.callback_update(CHAT, "t:3:which:3", int(sent.provider_id)))
    assert inbound.tap is not None
    shown = await channel.show_selection(
        inbound.tap, chat_id=str(CHAT), notice="☑ trzy", outbound=MULTI, selected=frozenset({"a", "c"})
    )
    assert shown
    ticked = [
        [button("☑ 1) jeden", "t:3:which:1")],
        [button("☐ 2) dwa", "t:3:which:2")],
        [button("☑ 3) trzy", "t:3:which:3")],
        [button("✓ Gotowe", "d:3:which:ok")],
    ]
    assert standin.calls[-2:] == [
        Call("answerCallbackQuery", {"callback_query_id": inbound.tap.callback_id, "text": "☑ trzy"}),
        Call(
            "editMessageReplyMarkup",
            {"chat_id": CHAT, "message_id": int(sent.provider_id), "reply_markup": {"inline_keyboard": ticked}},
        ),
    ]
    [message] = standin.messages(CHAT)
    assert message["text"] == "Które?" and message["reply_markup"] == {"inline_keyboard": ticked}


async def test_acknowledge_is_best_effort(channel: TelegramChannel, standin: TelegramStandIn) -> None:
    tap = ButtonTap(3, "uses_tram", "yes", "cb-gone", message_id="999")  # a message that no longer exists
    assert not await channel.acknowledge_tap(tap, chat_id=str(CHAT), notice="", chosen_label="tak")
    assert standin.calls_to("answerCallbackQuery") == [Call("answerCallbackQuery", {"callback_query_id": "cb-gone"})]


# -- verify ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "secret", "headers", "verified"),
    [
        ("right secret", SECRET, {SECRET_HEADER: SECRET}, True),
        ("header name in any case", SECRET, {SECRET_HEADER.lower(): SECRET}, True),
        ("missing", SECRET, {}, False),
        ("wrong", SECRET, {SECRET_HEADER: SECRET[:-1]}, False),
        ("longer", SECRET, {SECRET_HEADER: SECRET + "x"}, False),
        ("no secret configured", None, {SECRET_HEADER: ""}, False),
        ("no secret configured, no header", None, {}, False),
    ],
)
def test_verify_table(label: str, secret: str | None, headers: dict[str, str], verified: bool) -> None:
    channel = TelegramChannel(token=TOKEN, api_base_url="http://127.0.0.1:9", webhook_secret=secret)
    assert channel.verify(Request(url="/webhooks/telegram", headers=headers, body=b"{}")) is verified, label


@pytest.mark.parametrize("secret", ["", "has space", "x" * 257, "zażółć"])
def test_a_bad_secret_is_refused_when_configured(secret: str) -> None:
    with pytest.raises(ValueError, match="secret"):
        TelegramChannel(token=TOKEN, api_base_url="http://127.0.0.1:9", webhook_secret=secret)


# -- reading webhook requests (the updates themselves: tests/channels/test_telegram_updates.py) -----


@pytest.mark.parametrize(
    ("label", "body"),
    [("not JSON", b"{update_id: 1"), ("not UTF-8", b"\xff\xfe{}"), ("empty", b"")],
)
def test_parse_inbound_refuses_what_is_no_update(label: str, body: bytes) -> None:
    channel = make_channel("http://127.0.0.1:9")
    with pytest.raises(InvalidRequest):
        channel.parse_inbound(Request(url="/webhooks/telegram", headers={SECRET_HEADER: SECRET}, body=body))


def test_parse_inbound_reads_the_body() -> None:
    channel = make_channel("http://127.0.0.1:9")
    request = update_request({"update_id": 1001, "message": message("tak")}, SECRET)
    assert channel.verify(request)
    [inbound] = channel.parse_inbound(request)
    assert (inbound.provider_id, inbound.address, inbound.text, inbound.received_at) == ("u1001", str(CHAT), "tak", AT)


# -- webhook and long polling ----------------------------------------------------------------------


async def test_set_and_delete_webhook(channel: TelegramChannel, standin: TelegramStandIn) -> None:
    await channel.set_webhook("https://outreach.example/webhooks/telegram")
    assert standin.calls[-1] == Call(
        "setWebhook",
        {
            "url": "https://outreach.example/webhooks/telegram",
            "secret_token": SECRET,
            "allowed_updates": list(ALLOWED_UPDATES),
        },
    )
    with pytest.raises(TelegramApiError) as conflict:  # Telegram refuses polling while a webhook is set
        await channel.get_updates(None, 0)
    assert not conflict.value.retryable
    await channel.delete_webhook()
    assert standin.calls[-1] == Call("deleteWebhook", {})
    assert await channel.get_updates(None, 0) == []


async def test_long_polling_returns_pushed_updates_and_respects_offset(
    channel: TelegramChannel, standin: TelegramStandIn
) -> None:
    first, second = standin.message_update(CHAT, "tak"), standin.message_update(CHAT, "/start plakat")
    standin.push_update(first)
    standin.push_update(second)
    updates = await channel.get_updates(None, 1)
    assert [u["update_id"] for u in updates] == [first["update_id"], second["update_id"]]
    inbounds = [inbound for update in updates for inbound in parse_update(update)]
    assert [(i.provider_id, i.text, i.command, i.argument) for i in inbounds] == [
        (f"u{first['update_id']}", "tak", None, None),
        (f"u{second['update_id']}", "/start plakat", "start", "plakat"),
    ]
    assert standin.calls[-1] == Call("getUpdates", {"timeout": 1, "allowed_updates": list(ALLOWED_UPDATES)})
    # Asking from the next id confirms both; nothing new comes within the wait.
    offset = second["update_id"] + 1
    assert await channel.get_updates(offset, 0) == []
    # A long poll is woken by an update that arrives while it waits.
    waiting = asyncio.create_task(channel.get_updates(offset, 30))
    await asyncio.sleep(0.1)
    third = standin.message_update(CHAT, "nie")
    standin.push_update(third)
    updates = await asyncio.wait_for(waiting, 10)  # woken well before its 30 s wait ends, even on a loaded machine
    assert [u["update_id"] for u in updates] == [third["update_id"]]
    assert standin.calls_to("getUpdates")[-1].params["offset"] == offset


async def test_poll_a_tap_on_a_sent_question(channel: TelegramChannel, standin: TelegramStandIn) -> None:
    sent = await channel.send(QUESTION)
    standin.push_update(standin.callback_update(CHAT, "a:3:uses_tram:yes", int(sent.provider_id)))
    standin.push_update(standin.sticker_update(CHAT))
    standin.push_update(standin.edited_update(CHAT, "nie", int(sent.provider_id)))
    standin.push_update(standin.blocked_update(CHAT))
    inbounds = [inbound for update in await channel.get_updates(None, 1) for inbound in parse_update(update)]
    assert [(i.text, i.tap and i.tap.key, i.command, i.opted_out_by_provider) for i in inbounds] == [
        ("yes", "yes", None, False),
        ("", None, None, False),
        ("", None, "stop", True),
    ]
    tap = inbounds[0].tap
    assert tap is not None and tap.callback_id
    assert (tap.campaign_id, tap.question_id, tap.key, tap.message_id) == (3, "uses_tram", "yes", sent.provider_id)


async def test_a_webhook_delivery_is_verified_and_parsed(standin: TelegramStandIn) -> None:
    """What the service's POST /webhooks/telegram does, in miniature: verify, parse, answer."""
    channel = make_channel("http://127.0.0.1:9")
    heard: list[Inbound] = []

    async def webhook(request: web.Request) -> web.Response:
        framework_free = Request(url=str(request.rel_url), headers=dict(request.headers), body=await request.read())
        if not channel.verify(framework_free):
            return web.Response(status=403)
        try:
            heard.extend(channel.parse_inbound(framework_free))
        except InvalidRequest:
            return web.Response(status=400)
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/webhooks/telegram", webhook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    url = f"http://{host}:{port}/webhooks/telegram"
    try:
        update = standin.message_update(CHAT, "/start plakat")
        assert await standin.post_update(url, update, SECRET) == 200
        assert await standin.post_update(url, update, "wrong") == 403
        assert await standin.post_update(url, update, None) == 403
        assert await standin.post_update(url, {"message": {}}, SECRET) == 400
    finally:
        await runner.cleanup()
    assert [(i.provider_id, i.command, i.argument) for i in heard] == [(f"u{update['update_id']}", "start", "plakat")]
