"""The Bot API stand-in on its own, spoken to over raw HTTP: the wire format the channel tests rely on."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from channels.standins.telegram import (
    BLOCKED,
    HANG,
    SERVER_ERROR,
    Call,
    SteadyFaults,
    TelegramStandIn,
    too_many_requests,
)
from tests.providers import TELEGRAM_BOT_TOKEN as TOKEN

CHAT = 4242001


@pytest.fixture
async def standin() -> AsyncIterator[TelegramStandIn]:
    async with TelegramStandIn(TOKEN, long_poll_cap=0.3, hang_seconds=5.0) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def call(
    http: aiohttp.ClientSession,
    standin: TelegramStandIn,
    method: str,
    *,
    form: dict[str, str] | None = None,
    body: dict[str, Any] | None = None,
    token: str = TOKEN,
) -> tuple[int, dict[str, Any]]:
    url = f"{standin.base_url}/bot{token}/{method}"
    async with http.post(url, data=form, json=body) as response:
        answer: dict[str, Any] = await response.json()
        return response.status, answer


@pytest.mark.parametrize(
    ("label", "method", "token", "status", "answer"),
    [
        ("wrong token", "getMe", "123456:other", 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}),
        ("unknown method", "sendPigeon", TOKEN, 404, {"ok": False, "error_code": 404, "description": "Not Found"}),
        (
            "no chat",
            "sendMessage",
            TOKEN,
            400,
            {"ok": False, "error_code": 400, "description": "Bad Request: chat_id is empty"},
        ),
    ],
)
async def test_errors_carry_the_real_status(
    standin: TelegramStandIn,
    http: aiohttp.ClientSession,
    label: str,
    method: str,
    token: str,
    status: int,
    answer: dict[str, Any],
) -> None:
    assert await call(http, standin, method, form={"text": "x"}, token=token) == (status, answer), label


async def test_get_me_names_the_bot_of_the_token(standin: TelegramStandIn, http: aiohttp.ClientSession) -> None:
    status, answer = await call(http, standin, "getMe")
    assert status == 200 and answer["ok"] is True
    assert answer["result"]["id"] == 123456 and answer["result"]["is_bot"] is True


@pytest.mark.parametrize("encoding", ["form", "json"])
async def test_send_message_decodes_form_and_json_alike(
    standin: TelegramStandIn, http: aiohttp.ClientSession, encoding: str
) -> None:
    markup = {"inline_keyboard": [[{"text": "tak", "callback_data": "a:1:q:yes"}]]}
    if encoding == "form":
        sent = await call(
            http, standin, "sendMessage", form={"chat_id": str(CHAT), "text": "1", "reply_markup": json.dumps(markup)}
        )
    else:
        sent = await call(http, standin, "sendMessage", body={"chat_id": CHAT, "text": "1", "reply_markup": markup})
    status, answer = sent
    assert status == 200
    result = answer["result"]
    assert (result["chat"]["id"], result["text"], result["reply_markup"]) == (CHAT, "1", markup)
    assert standin.calls == [Call("sendMessage", {"chat_id": CHAT, "text": "1", "reply_markup": markup})]
    again = (await call(http, standin, "sendMessage", body={"chat_id": CHAT, "text": "2"}))[1]["result"]
    assert again["message_id"] > result["message_id"]


async def test_faults_per_chat_and_per_method(standin: TelegramStandIn, http: aiohttp.ClientSession) -> None:
    standin.fail_chat(CHAT, too_many_requests(3), times=1)
    standin.fail_method("getMe", SERVER_ERROR)
    form = {"chat_id": str(CHAT), "text": "hej"}
    assert await call(http, standin, "sendMessage", form=form) == (
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 3",
            "parameters": {"retry_after": 3},
        },
    )
    assert (await call(http, standin, "sendMessage", form=form))[0] == 200  # only once
    assert (await call(http, standin, "getMe"))[0] == 500
    standin.fail_chat(CHAT, BLOCKED)
    status, answer = await call(http, standin, "sendMessage", form=form)
    assert (status, answer["description"]) == (403, "Forbidden: bot was blocked by the user")
    assert (await call(http, standin, "sendMessage", form={"chat_id": "1", "text": "x"}))[0] == 200  # other chats
    standin.clear_faults()
    assert (await call(http, standin, "getMe"))[0] == 200


async def test_get_updates_offset_confirms_earlier_updates(
    standin: TelegramStandIn, http: aiohttp.ClientSession
) -> None:
    updates = [standin.message_update(CHAT, text) for text in ("a", "b", "c")]
    for update in updates:
        standin.push_update(update)
    ids = [update["update_id"] for update in updates]
    _, answer = await call(http, standin, "getUpdates", form={"limit": "2"})
    assert [u["update_id"] for u in answer["result"]] == ids[:2]
    _, answer = await call(http, standin, "getUpdates", form={"offset": str(ids[1])})
    assert [u["update_id"] for u in answer["result"]] == ids[1:]
    _, answer = await call(http, standin, "getUpdates")  # the first one is gone for good
    assert [u["update_id"] for u in answer["result"]] == ids[1:]
    _, answer = await call(http, standin, "getUpdates", form={"offset": str(ids[2] + 1)})
    assert answer["result"] == []


async def test_long_poll_waits_no_longer_than_its_cap(standin: TelegramStandIn, http: aiohttp.ClientSession) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert (await call(http, standin, "getUpdates", form={"timeout": "30"}))[1]["result"] == []
    assert 0.25 <= loop.time() - started < 2.0


async def test_get_updates_refused_while_a_webhook_is_set(
    standin: TelegramStandIn, http: aiohttp.ClientSession
) -> None:
    form = {"url": "https://outreach.example/webhooks/telegram", "secret_token": "s", "allowed_updates": '["message"]'}
    assert (await call(http, standin, "setWebhook", form=form))[0] == 200
    assert standin.webhook == {**form, "allowed_updates": ["message"]}
    assert (await call(http, standin, "getUpdates"))[0] == 409
    await call(http, standin, "deleteWebhook")
    assert (await call(http, standin, "getUpdates"))[0] == 200


async def test_edits_need_the_message(standin: TelegramStandIn, http: aiohttp.ClientSession) -> None:
    markup = {"inline_keyboard": [[{"text": "tak", "callback_data": "a:1:q:yes"}]]}
    _, sent = await call(http, standin, "sendMessage", body={"chat_id": CHAT, "text": "Q", "reply_markup": markup})
    message_id = sent["result"]["message_id"]
    missing = await call(http, standin, "editMessageReplyMarkup", body={"chat_id": CHAT, "message_id": 999})
    assert missing[0] == 400 and missing[1]["description"] == "Bad Request: message to edit not found"
    same = await call(
        http,
        standin,
        "editMessageReplyMarkup",
        body={"chat_id": CHAT, "message_id": message_id, "reply_markup": markup},
    )
    assert same[0] == 400 and "not modified" in same[1]["description"]
    assert (await call(http, standin, "editMessageReplyMarkup", body={"chat_id": CHAT, "message_id": message_id}))[
        0
    ] == 200
    assert standin.messages(CHAT) == [
        {k: v for k, v in sent["result"].items() if k != "reply_markup"}
        | {"edit_date": standin.messages(CHAT)[0]["edit_date"]}
    ]


async def test_stop_releases_a_hanging_call(http: aiohttp.ClientSession) -> None:
    standin = TelegramStandIn(TOKEN, hang_seconds=30.0)
    await standin.start()
    standin.fail_chat(CHAT, HANG)
    pending = asyncio.create_task(call(http, standin, "sendMessage", body={"chat_id": CHAT, "text": "x"}))
    await asyncio.sleep(0.1)
    assert not pending.done() and len(standin.messages(CHAT)) == 1  # it took effect; the answer waits
    loop = asyncio.get_running_loop()
    started = loop.time()
    await standin.stop()
    assert loop.time() - started < 3.0
    pending.cancel()
    await asyncio.gather(pending, return_exceptions=True)


# --- steady faults -----------------------------------------------------------------------------------

EVERY_FAULT = SteadyFaults(
    rate_limited=1 / 7,
    server_error=1 / 7,
    unavailable=1 / 7,
    slow=1 / 7,
    hang=1 / 7,
    drop=1 / 7,
    retry_after=9,
    slow_seconds=0.1,
    hang_seconds=5.0,
    seed=7,
)
CLIENT_TIMEOUT = 2.0  # well above a slow answer (a loaded CI machine), shorter than a hang


async def send(http: aiohttp.ClientSession, standin: TelegramStandIn, chat_id: int) -> tuple[tuple[object, ...], float]:
    """One sendMessage with a client timeout: (what came back, seconds it took)."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        async with asyncio.timeout(CLIENT_TIMEOUT):
            status, answer = await call(http, standin, "sendMessage", body={"chat_id": chat_id, "text": "Czy?"})
    except TimeoutError:
        return ("timeout",), loop.time() - started
    except aiohttp.ServerDisconnectedError:
        return ("dropped",), loop.time() - started
    return (status, answer.get("parameters")), loop.time() - started


async def test_steady_faults_meet_their_share_and_log_what_took_effect(
    standin: TelegramStandIn, http: aiohttp.ClientSession
) -> None:
    standin.steady(EVERY_FAULT)
    chats = [CHAT + n for n in range(60)]
    answers = dict(zip(chats, await asyncio.gather(*(send(http, standin, chat) for chat in chats)), strict=True))
    log = {int(entry.recipient): entry for entry in standin.steady_log}
    assert sorted(log) == chats and {entry.number for entry in log.values()} == {1}
    assert {entry.fault for entry in log.values()} == {"ok", *(kind for kind, _ in EVERY_FAULT.shares())}
    expected: dict[str, tuple[object, ...]] = {
        "ok": (200, None),
        "slow": (200, None),
        "rate_limited": (429, {"retry_after": 9}),
        "server_error": (500, None),
        "unavailable": (503, None),
        "hang": ("timeout",),
        "drop": ("dropped",),
    }
    assert {chat: answer for chat, (answer, _) in answers.items()} == {
        chat: expected[log[chat].fault] for chat in chats
    }
    assert all(
        seconds >= EVERY_FAULT.slow_seconds for chat, (_, seconds) in answers.items() if log[chat].fault == "slow"
    )
    # A hang and a drop lose only the answer: the message is in the chat; refusals sent nothing.
    in_chats = {chat: [str(m["message_id"]) for m in standin.messages(chat)] for chat in chats}
    assert in_chats == {chat: [e.message_id] if e.message_id else [] for chat, e in log.items()}
    assert {log[chat].fault for chat, sent in in_chats.items() if sent} == {"ok", "slow", "hang", "drop"}


async def test_steady_faults_spare_other_methods_and_yield_to_scripted_ones(
    standin: TelegramStandIn, http: aiohttp.ClientSession
) -> None:
    standin.steady(SteadyFaults(server_error=1.0))
    assert (await call(http, standin, "getMe"))[0] == 200  # a channel's start (getMe) is not a send
    standin.fail_chat(CHAT, BLOCKED, times=1)
    body = {"chat_id": CHAT, "text": "x"}
    assert [(await call(http, standin, "sendMessage", body=body))[0] for _ in range(2)] == [403, 500]
    assert [(e.recipient, e.number, e.fault, e.took_effect) for e in standin.steady_log] == [
        (str(CHAT), 1, "server_error", False)
    ]
    standin.clear_faults()
    assert (await call(http, standin, "sendMessage", body=body))[0] == 200
    assert len(standin.steady_log) == 1
