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
    TelegramStandIn,
    too_many_requests,
)

TOKEN = "123456:AAH-standin_token"
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
