"""A Telegram Bot API stand-in: an aiohttp server on loopback that speaks the Bot API's wire format.

python-telegram-bot talks to it exactly as to api.telegram.org (`POST /bot{token}/{method}`, form
fields with nested objects as JSON strings, or a JSON body). Answers are `{"ok": true, "result": …}`
with HTTP 200; errors carry the real HTTP status, as PTB maps errors by status.

Tests script failures per chat or per method (blocked, never started, chat not found, 429 with
retry_after, 5xx, a hang, a dropped connection) and feed updates to getUpdates or to a webhook.
A hang and a drop happen after the call took effect, as on the real network: the message is out,
only the answer is lost. `subscribe` hears each message the bot sends as it arrives (the demo's
simulated residents read their chats that way).

`steady(SteadyFaults(...))` meets a steady share of sendMessage calls with 429 (retry_after), 500,
503, a slow answer, a hang or a dropped connection (the last two after the message went out);
`steady_log` says what each such call met and which message it created.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiohttp
from aiohttp import web

# One schedule for both stand-ins (it lives with the Twilio one); re-exported for the tests.
from channels.standins.twilio import RETRYABLE_FAULTS, SteadyFaultKind
from channels.standins.twilio import SteadyFaults as SteadyFaults
from channels.standins.twilio import SteadyOutcome as SteadyOutcome

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_K = TypeVar("_K", str, int)

# Hears a message the bot sent (sendMessage accepted): the message object as the Bot API returns it.
MessageListener = Callable[[dict[str, Any]], None]

JSON_FIELDS = frozenset(
    {"reply_markup", "allowed_updates", "entities", "link_preview_options", "reply_parameters", "caption_entities"}
)
INT_FIELDS = frozenset({"chat_id", "message_id", "offset", "limit", "timeout", "cache_time", "max_connections"})
BOOL_FIELDS = frozenset(
    {"show_alert", "drop_pending_updates", "disable_notification", "protect_content", "allow_sending_without_reply"}
)


@dataclass(frozen=True)
class Fault:
    """What the stand-in does instead of answering normally."""

    status: int = 0
    description: str = ""
    retry_after: int | None = None
    hang: bool = False  # take effect, then answer only after a long while (or never, before stop)
    drop: bool = False  # take effect, then close the connection without an answer
    after_effect: bool = False  # with a status: take effect first (a proxy that gave up waiting)


BLOCKED = Fault(403, "Forbidden: bot was blocked by the user")
NEVER_STARTED = Fault(403, "Forbidden: bot can't initiate conversation with a user")
DEACTIVATED = Fault(403, "Forbidden: user is deactivated")
CHAT_NOT_FOUND = Fault(400, "Bad Request: chat not found")
SERVER_ERROR = Fault(500, "Internal Server Error")
SERVICE_UNAVAILABLE = Fault(503, "Service Unavailable")
BAD_GATEWAY = Fault(502, "Bad Gateway", after_effect=True)  # a proxy: the call may have gone through
GATEWAY_TIMEOUT = Fault(504, "Gateway Timeout", after_effect=True)
HANG = Fault(hang=True)
DROP = Fault(drop=True)


def too_many_requests(retry_after: int) -> Fault:
    return Fault(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)


@dataclass(frozen=True)
class Call:
    """One Bot API call as received: the method and its decoded parameters."""

    method: str
    params: dict[str, Any]


@dataclass
class _Script:
    fault: Fault
    times: int | None  # None: every time


@dataclass
class _Chat:
    id: int
    type: str = "private"
    first_name: str = "Mieszkanka"

    def as_json(self) -> dict[str, Any]:
        if self.type == "private":
            return {"id": self.id, "type": "private", "first_name": self.first_name}
        return {"id": self.id, "type": self.type, "title": "Rada Dzielnicy"}


@dataclass
class _Store:
    messages: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    updates: list[dict[str, Any]] = field(default_factory=list)


def _decode(name: str, value: Any) -> Any:
    """A form field as the Bot API reads it (PTB sends every value JSON-encoded unless a string)."""
    if not isinstance(value, str):
        return value
    if name in JSON_FIELDS:
        return json.loads(value)
    if name in INT_FIELDS:
        with contextlib.suppress(ValueError):
            return int(value)
        return value
    if name in BOOL_FIELDS:
        return value == "true"
    return value


class TelegramStandIn:
    def __init__(
        self,
        token: str,
        *,
        bot_username: str = "gdansk_pyta_bot",
        long_poll_cap: float = 2.0,
        hang_seconds: float = 30.0,
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        self.long_poll_cap = long_poll_cap
        self.hang_seconds = hang_seconds
        self.calls: list[Call] = []
        self.webhook: dict[str, Any] | None = None
        self._store = _Store()
        self._by_chat: dict[int, _Script] = {}
        self._by_method: dict[str, _Script] = {}
        self._listeners: list[MessageListener] = []
        self._steady: SteadyFaults | None = None
        self._steady_counts: Counter[int] = Counter()
        self.steady_log: list[SteadyOutcome] = []
        self._message_ids = itertools.count(1)
        self._update_ids = itertools.count(700_000_001)
        self._callback_ids = itertools.count(1)
        self._arrival = asyncio.Event()
        self._stopping = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self._methods: dict[str, Callable[[dict[str, Any]], Awaitable[web.Response]]] = {
            "getMe": self._get_me,
            "sendMessage": self._send_message,
            "answerCallbackQuery": self._true,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getUpdates": self._get_updates,
            "getWebhookInfo": self._get_webhook_info,
            "close": self._true,
            "logOut": self._true,
        }

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        return self.base_url

    async def stop(self) -> None:
        self._stopping.set()
        self._arrival.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> TelegramStandIn:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- scripting ---------------------------------------------------------------------------

    def fail_chat(self, chat_id: int, fault: Fault, *, times: int | None = None) -> None:
        """Every call naming `chat_id` meets `fault` (`times` times, or always)."""
        self._by_chat[chat_id] = _Script(fault, times)

    def fail_method(self, method: str, fault: Fault, *, times: int | None = None) -> None:
        self._by_method[method] = _Script(fault, times)

    def steady(self, faults: SteadyFaults | None) -> None:
        """Meet sendMessage calls with faults at a steady rate from now on (None: no more); faults
        scripted per chat or method come first."""
        self._steady = faults

    def clear_faults(self) -> None:
        self._by_chat.clear()
        self._by_method.clear()
        self._steady = None

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def subscribe(self, listener: MessageListener) -> None:
        """Call `listener(message)` with a copy of every message the bot sends from now on (a
        sendMessage that took effect, whatever fault then befalls its answer; edits are not sent).

        It runs inside the request handler, before the answer goes out: it should take note or
        schedule work, not wait.
        """
        self._listeners.append(listener)

    def messages(self, chat_id: int) -> list[dict[str, Any]]:
        """The messages the bot has in a chat now (after edits), oldest first."""
        return [message for (chat, _), message in sorted(self._store.messages.items()) if chat == chat_id]

    # -- updates -----------------------------------------------------------------------------

    def push_update(self, update: Mapping[str, Any]) -> None:
        """Queue an update for getUpdates (and wake a waiting long poll)."""
        self._store.updates.append(dict(update))
        self._arrival.set()

    def _user(self, user_id: int, language_code: str | None) -> dict[str, Any]:
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": "Mieszkanka"}
        if language_code is not None:
            user["language_code"] = language_code
        return user

    def _message(self, chat_id: int, text: str, chat_type: str, language_code: str | None) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "from": self._user(chat_id if chat_type == "private" else 5_000_001, language_code),
            "chat": _Chat(chat_id, chat_type).as_json(),
            "date": int(time.time()),
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return message

    def message_update(
        self, chat_id: int, text: str, *, chat_type: str = "private", language_code: str | None = "pl"
    ) -> dict[str, Any]:
        """A resident's text (or /command) in a chat; for a group, chat_id is the group's."""
        return {
            "update_id": next(self._update_ids),
            "message": self._message(chat_id, text, chat_type, language_code),
        }

    def sticker_update(self, chat_id: int, *, language_code: str | None = "pl") -> dict[str, Any]:
        message = self._message(chat_id, "", "private", language_code)
        del message["text"]
        message["sticker"] = {
            "file_id": "CAACAgIAAxkBAAEB",
            "file_unique_id": "AgADBAAD",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        }
        return {"update_id": next(self._update_ids), "message": message}

    def callback_update(
        self, chat_id: int, data: str, message_id: int, *, language_code: str | None = "pl"
    ) -> dict[str, Any]:
        """A tap on a button of the bot's message `message_id` in a private chat."""
        sent = self._store.messages.get((chat_id, message_id))
        message = (
            dict(sent)
            if sent is not None
            else {
                "message_id": message_id,
                "from": self._bot_user(),
                "chat": _Chat(chat_id).as_json(),
                "date": int(time.time()),
                "text": "?",
            }
        )
        return {
            "update_id": next(self._update_ids),
            "callback_query": {
                "id": f"{chat_id}{next(self._callback_ids):06d}",
                "from": self._user(chat_id, language_code),
                "message": message,
                "chat_instance": "-7718340017710036541",
                "data": data,
            },
        }

    def edited_update(
        self, chat_id: int, text: str, message_id: int, *, language_code: str | None = "pl"
    ) -> dict[str, Any]:
        message = self._message(chat_id, text, "private", language_code)
        message["message_id"] = message_id
        message["edit_date"] = message["date"] + 5
        return {"update_id": next(self._update_ids), "edited_message": message}

    def blocked_update(self, chat_id: int, *, language_code: str | None = "pl") -> dict[str, Any]:
        """What Telegram sends when the resident blocks the bot (my_chat_member, status kicked)."""
        bot = self._bot_user()
        return {
            "update_id": next(self._update_ids),
            "my_chat_member": {
                "chat": _Chat(chat_id).as_json(),
                "from": self._user(chat_id, language_code),
                "date": int(time.time()),
                "old_chat_member": {"user": bot, "status": "member"},
                "new_chat_member": {"user": bot, "status": "kicked", "until_date": 0},
            },
        }

    async def post_update(self, webhook_url: str, update: Mapping[str, Any], secret: str | None) -> int:
        """Deliver an update to a webhook as Telegram does; returns the HTTP status it answered."""
        headers = {SECRET_HEADER: secret} if secret else {}
        async with (
            aiohttp.ClientSession() as session,
            session.post(webhook_url, json=dict(update), headers=headers) as response,
        ):
            return response.status

    # -- the Bot API -------------------------------------------------------------------------

    def _bot_user(self) -> dict[str, Any]:
        bot_id = int(self.token.split(":", 1)[0]) if self.token.split(":", 1)[0].isdecimal() else 1
        return {"id": bot_id, "is_bot": True, "first_name": "Gdańsk pyta", "username": self.bot_username}

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            body = await request.json()
            return {str(k): _decode(str(k), v) for k, v in body.items()} if isinstance(body, dict) else {}
        if request.can_read_body:
            form = await request.post()
            return {name: _decode(name, value) for name, value in form.items() if isinstance(value, str)}
        return dict(request.query)

    def _fault_for(self, method: str, params: Mapping[str, Any]) -> Fault | None:
        chat_id = params.get("chat_id")
        fault = _take(self._by_method, method)
        if fault is None and isinstance(chat_id, int):
            fault = _take(self._by_chat, chat_id)
        return fault

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        try:
            params = await self._params(request)
        except (ValueError, json.JSONDecodeError):
            return _error(400, "Bad Request: can't parse request parameters")
        self.calls.append(Call(method, params))
        fault = self._fault_for(method, params)
        chat_id = params.get("chat_id")
        if fault is None and self._steady is not None and method == "sendMessage" and isinstance(chat_id, int):
            return await self._steadily(request, self._steady, chat_id, params)
        if fault is not None and fault.status and not fault.after_effect:
            return _error(fault.status, fault.description, fault.retry_after)
        handler = self._methods.get(method)
        if handler is None:
            return _error(404, "Not Found")
        response = await handler(params)
        if fault is not None and fault.status:
            return _error(fault.status, fault.description, fault.retry_after)
        if fault is not None and fault.drop:
            assert request.transport is not None
            request.transport.abort()  # the call took effect; its answer never comes
            raise web.HTTPInternalServerError()
        if fault is not None and fault.hang:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.hang_seconds)
        return response

    async def _steadily(
        self, request: web.Request, faults: SteadyFaults, chat_id: int, params: dict[str, Any]
    ) -> web.StreamResponse:
        """Answer a sendMessage under steady faults, and log what it met."""
        self._steady_counts[chat_id] += 1
        number = self._steady_counts[chat_id]
        kind: SteadyFaultKind = faults.draw(str(chat_id), number)
        if kind in RETRYABLE_FAULTS:
            self.steady_log.append(SteadyOutcome(str(chat_id), number, kind, None))
            if kind == "rate_limited":
                limited = too_many_requests(faults.retry_after)
                return _error(limited.status, limited.description, limited.retry_after)
            answer = SERVER_ERROR if kind == "server_error" else SERVICE_UNAVAILABLE
            return _error(answer.status, answer.description)
        if kind == "slow":
            await asyncio.sleep(faults.slow_seconds)
        response = await self._send_message(params)
        sent = json.loads(response.text or "{}").get("result") if response.status == 200 else None
        message_id = str(sent["message_id"]) if isinstance(sent, dict) else None
        self.steady_log.append(SteadyOutcome(str(chat_id), number, kind, message_id))
        if message_id is not None and kind == "drop":
            assert request.transport is not None
            request.transport.abort()  # the message is out; its answer never comes
            raise web.HTTPInternalServerError()
        if message_id is not None and kind == "hang":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), faults.hang_seconds)
        return response

    async def _get_me(self, params: dict[str, Any]) -> web.Response:
        me = self._bot_user() | {
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        return _ok(me)

    def _chat_id(self, params: Mapping[str, Any]) -> int | None:
        chat_id = params.get("chat_id")
        return chat_id if isinstance(chat_id, int) else None

    async def _send_message(self, params: dict[str, Any]) -> web.Response:
        chat_id = self._chat_id(params)
        text = params.get("text")
        if chat_id is None:
            return _error(400, "Bad Request: chat_id is empty")
        if not isinstance(text, str) or not text.strip():
            return _error(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            return _error(400, "Bad Request: message is too long")
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "from": self._bot_user(),
            "chat": _Chat(chat_id).as_json(),
            "date": int(time.time()),
            "text": text,
        }
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        self._store.messages[(chat_id, message["message_id"])] = message
        for listener in self._listeners:
            listener(copy.deepcopy(message))
        return _ok(message)

    def _stored(self, params: Mapping[str, Any]) -> dict[str, Any] | None:
        chat_id, message_id = self._chat_id(params), params.get("message_id")
        if chat_id is None or not isinstance(message_id, int):
            return None
        return self._store.messages.get((chat_id, message_id))

    async def _edit_message_text(self, params: dict[str, Any]) -> web.Response:
        message = self._stored(params)
        if message is None:
            return _error(400, "Bad Request: message to edit not found")
        markup = params.get("reply_markup")
        if params.get("text") == message["text"] and markup == message.get("reply_markup"):
            return _error(400, "Bad Request: message is not modified")
        message["text"] = params.get("text")
        message["edit_date"] = int(time.time())
        message.pop("reply_markup", None)  # an edit without reply_markup takes the keyboard off
        if markup is not None:
            message["reply_markup"] = markup
        return _ok(message)

    async def _edit_message_reply_markup(self, params: dict[str, Any]) -> web.Response:
        message = self._stored(params)
        if message is None:
            return _error(400, "Bad Request: message to edit not found")
        markup = params.get("reply_markup")
        if markup == message.get("reply_markup"):
            return _error(400, "Bad Request: message is not modified")
        message.pop("reply_markup", None)
        if markup is not None:
            message["reply_markup"] = markup
        message["edit_date"] = int(time.time())
        return _ok(message)

    async def _true(self, params: dict[str, Any]) -> web.Response:
        return _ok(True)

    async def _set_webhook(self, params: dict[str, Any]) -> web.Response:
        url = params.get("url")
        if not isinstance(url, str) or not url:
            self.webhook = None
            return _ok(True, description="Webhook was deleted")
        self.webhook = dict(params)
        return _ok(True, description="Webhook was set")

    async def _delete_webhook(self, params: dict[str, Any]) -> web.Response:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._store.updates.clear()
        return _ok(True, description="Webhook was deleted")

    async def _get_updates(self, params: dict[str, Any]) -> web.Response:
        if self.webhook is not None:
            return _error(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete "
                "the webhook first",
            )
        offset, limit, timeout = params.get("offset"), params.get("limit"), params.get("timeout")
        if isinstance(offset, int) and offset > 0:
            # Asking from `offset` confirms every earlier update: Telegram forgets them.
            self._store.updates = [u for u in self._store.updates if u["update_id"] >= offset]
        count = limit if isinstance(limit, int) and 1 <= limit <= 100 else 100
        wait = min(float(timeout), self.long_poll_cap) if isinstance(timeout, int) and timeout > 0 else 0.0
        deadline = asyncio.get_running_loop().time() + wait
        while not self._store.updates and not self._stopping.is_set():
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                break
            self._arrival.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrival.wait(), remaining)
        return _ok(self._store.updates[:count])

    async def _get_webhook_info(self, params: dict[str, Any]) -> web.Response:
        url = self.webhook.get("url", "") if self.webhook else ""
        return _ok({"url": url, "has_custom_certificate": False, "pending_update_count": len(self._store.updates)})


def _take(table: dict[_K, _Script], name: _K) -> Fault | None:
    script = table.get(name)
    if script is None:
        return None
    if script.times is not None:
        script.times -= 1
        if script.times <= 0:
            del table[name]
    return script.fault


def _ok(result: Any, *, description: str | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": True, "result": result}
    if description is not None:
        body["description"] = description
    return web.json_response(body)


def _error(status: int, description: str, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=status)
