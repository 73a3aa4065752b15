"""Reading Telegram updates (pure): the update JSON a webhook or long polling brings, as `Inbound`s.

`parse_update` needs no running bot, so the same function serves the webhook route and long polling:
a private message (a command such as "/start SOURCE" read by `parse_command`), a tap on one of our
buttons (`telegram_keyboards.decode_callback_data`), or a resident blocking the bot (an opt-out).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from channels.base import ButtonTap, Inbound, InvalidRequest
from channels.telegram_keyboards import decode_callback_data

TELEGRAM = "telegram"
COMMANDS = frozenset({"start", "stop", "help", "language"})
_START_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")
_ARGUMENT_LIMIT = 64


def _object(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidRequest(f"telegram update: {what} is not an object")
    return value


def _integer(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidRequest(f"telegram update: {what} is not an integer")
    return value


def _string(value: object) -> str:
    return value if isinstance(value, str) else ""


def _language(sender: object) -> str | None:
    if isinstance(sender, Mapping):
        code = sender.get("language_code")
        if isinstance(code, str) and code:
            return code
    return None


def _private_chat(message: Mapping[str, Any]) -> tuple[str, bool]:
    chat = _object(message.get("chat"), "message.chat")
    return str(_integer(chat.get("id"), "chat.id")), chat.get("type") == "private"


def parse_command(text: str) -> tuple[str, str | None] | None:
    """("start", "SOURCE") for "/start SOURCE"; None when the text is not one of our commands."""
    if not text.startswith("/"):
        return None
    head, *rest = text.split(maxsplit=1)
    name = head[1:].partition("@")[0].lower()
    if name not in COMMANDS:
        return None
    argument = rest[0].strip() if rest else None
    if name == "start":
        # A deep-link payload: up to 64 characters of [A-Za-z0-9_-]; anything else is no source.
        return name, argument if argument and _START_PAYLOAD.fullmatch(argument) else None
    if name == "language" and argument:
        return name, argument[:_ARGUMENT_LIMIT]
    return name, None


def parse_update(update: object, *, now: datetime | None = None) -> list[Inbound]:
    """The Inbound(s) an update JSON carries. Pure: `now` only dates button taps (default: the clock)."""
    body = _object(update, "the update")
    update_id = _integer(body.get("update_id"), "update_id")
    provider_id = f"u{update_id}"
    received = now or datetime.now(UTC)
    if "message" in body:
        return _from_message(_object(body["message"], "message"), provider_id, received)
    if "callback_query" in body:
        return _from_callback(_object(body["callback_query"], "callback_query"), provider_id, received)
    if "my_chat_member" in body:
        return _from_membership(_object(body["my_chat_member"], "my_chat_member"), provider_id, received)
    return []  # edited_message (an edit is not a new answer), channel posts, inline queries, …


def _from_message(message: Mapping[str, Any], provider_id: str, received: datetime) -> list[Inbound]:
    address, private = _private_chat(message)
    if not private:
        return []
    date = message.get("date")
    if isinstance(date, int) and not isinstance(date, bool) and date > 0:
        received = datetime.fromtimestamp(date, UTC)
    # A sticker or photo without a caption fits nothing: an empty text, re-asked upstream.
    text = _string(message.get("text")) or _string(message.get("caption"))
    command = parse_command(text)
    return [
        Inbound(
            channel=TELEGRAM,
            provider_id=provider_id,
            address=address,
            text=text,
            received_at=received,
            command=command[0] if command else None,
            argument=command[1] if command else None,
            language_hint=_language(message.get("from")),
        )
    ]


def _from_callback(query: Mapping[str, Any], provider_id: str, received: datetime) -> list[Inbound]:
    callback_id = query.get("id")
    if not isinstance(callback_id, str) or not callback_id:
        raise InvalidRequest("telegram update: callback_query.id is missing")
    sender = _object(query.get("from"), "callback_query.from")
    message = query.get("message")
    message_id: str | None = None
    if message is not None:
        message = _object(message, "callback_query.message")
        address, private = _private_chat(message)
        if not private:
            return []
        message_id = str(_integer(message.get("message_id"), "message_id"))
    else:  # a button on an inline message: the private chat id is the user's id
        address = str(_integer(sender.get("id"), "from.id"))
    try:
        data = decode_callback_data(_string(query.get("data")))
    except ValueError:
        return []  # not our button (or a game): nothing to answer
    tap = ButtonTap(data.campaign_id, data.question_id, data.key, callback_id, message_id, data.action)
    return [
        Inbound(
            channel=TELEGRAM,
            provider_id=provider_id,
            address=address,
            text=data.key,
            received_at=received,
            tap=tap,
            language_hint=_language(sender),
        )
    ]


def _from_membership(change: Mapping[str, Any], provider_id: str, received: datetime) -> list[Inbound]:
    """A resident who blocks the bot: Telegram itself confirms the opt-out."""
    address, private = _private_chat(change)
    status = _object(change.get("new_chat_member"), "new_chat_member").get("status")
    if not private or status != "kicked":
        return []  # an unblock is followed by a /start when the resident presses "Restart"
    date = change.get("date")
    if isinstance(date, int) and not isinstance(date, bool) and date > 0:
        received = datetime.fromtimestamp(date, UTC)
    return [
        Inbound(
            channel=TELEGRAM,
            provider_id=provider_id,
            address=address,
            text="",
            received_at=received,
            command="stop",
            language_hint=_language(change.get("from")),
            opted_out_by_provider=True,
        )
    ]
