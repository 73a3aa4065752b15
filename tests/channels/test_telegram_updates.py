"""Reading Telegram updates, a table: messages, commands, taps, blocks in; `Inbound`s (or nothing) out.

Pure: no bot, no server. The update builders here serve tests/channels/test_telegram.py too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from channels.base import ButtonTap, Inbound, InvalidRequest, TapAction
from channels.telegram_updates import parse_update

CHAT = 4242001
NOW = datetime(2027, 3, 2, 10, 0, tzinfo=UTC)
DATE = 1804000000  # 2027-03-02 …, a message's own date
AT = datetime.fromtimestamp(DATE, UTC)
TEXT = "Czy jeździsz tramwajem?"


def user(user_id: int = CHAT, language: str | None = "pl") -> dict[str, Any]:
    sender: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": "Ola"}
    if language is not None:
        sender["language_code"] = language
    return sender


def chat(chat_type: str = "private", chat_id: int = CHAT) -> dict[str, Any]:
    return (
        {"id": chat_id, "type": chat_type, "first_name": "Ola"}
        if chat_type == "private"
        else {"id": chat_id, "type": chat_type, "title": "Rada"}
    )


def message(
    text: str | None = "tak", *, chat_type: str = "private", language: str | None = "pl", **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"message_id": 50, "from": user(language=language), "chat": chat(chat_type), "date": DATE}
    if text is not None:
        body["text"] = text
    return body | extra


def bot_question(message_id: int = 77) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "from": {"id": 123456, "is_bot": True, "first_name": "Gdańsk pyta"},
        "chat": chat(),
        "date": DATE,
        "text": TEXT,
    }


def callback(data: str, *, with_message: bool = True, chat_type: str = "private") -> dict[str, Any]:
    query: dict[str, Any] = {"id": "cb1", "from": user(language="uk"), "chat_instance": "42", "data": data}
    if with_message:
        query["message"] = bot_question() | {"chat": chat(chat_type)}
    return {"update_id": 1001, "callback_query": query}


def membership(status: str) -> dict[str, Any]:
    bot = {"id": 123456, "is_bot": True, "first_name": "Gdańsk pyta"}
    return {
        "update_id": 1001,
        "my_chat_member": {
            "chat": chat(),
            "from": user(),
            "date": DATE,
            "old_chat_member": {"user": bot, "status": "member"},
            "new_chat_member": {"user": bot, "status": status, "until_date": 0},
        },
    }


def said(text: str, **fields: Any) -> Inbound:
    values: dict[str, Any] = {"language_hint": "pl"} | fields
    return Inbound(channel="telegram", provider_id="u1001", address=str(CHAT), text=text, received_at=AT, **values)


def tapped(
    key: str, question: str = "uses_tram", message_id: str | None = "77", action: TapAction = "answer"
) -> Inbound:
    tap = ButtonTap(3, question, key, "cb1", message_id, action)
    return Inbound(
        channel="telegram",
        provider_id="u1001",
        address=str(CHAT),
        text=key,
        received_at=NOW,
        tap=tap,
        language_hint="uk",
    )


@pytest.mark.parametrize(
    ("label", "update", "expected"),
    [
        ("a private text", {"update_id": 1001, "message": message("tak")}, [said("tak")]),
        (
            "no language reported",
            {"update_id": 1001, "message": message("2", language=None)},
            [said("2", language_hint=None)],
        ),
        ("a tap", callback("a:3:uses_tram:yes"), [tapped("yes")]),
        ("a tap by number", callback("i:3:route:2"), [tapped("2", question="route")]),
        ("a toggle", callback("t:3:which:2"), [tapped("2", question="which", action="toggle")]),
        ("done", callback("d:3:which:ok"), [tapped("", question="which", action="submit")]),
        ("a question id with a colon", callback("a:3:part:one:yes"), [tapped("yes", question="part:one")]),
        (
            "a tap on an inline message",
            callback("a:3:uses_tram:no", with_message=False),
            [tapped("no", message_id=None)],
        ),
        ("a tap on someone else's button", callback("vote:42"), []),
        ("a tap in a group", callback("a:3:uses_tram:yes", chat_type="group"), []),
        (
            "/start SOURCE",
            {"update_id": 1001, "message": message("/start plakat_orunia-3")},
            [said("/start plakat_orunia-3", command="start", argument="plakat_orunia-3")],
        ),
        ("/start alone", {"update_id": 1001, "message": message("/start")}, [said("/start", command="start")]),
        (
            "/start with a bot name",
            {"update_id": 1001, "message": message("/start@gdansk_pyta_bot src1")},
            [said("/start@gdansk_pyta_bot src1", command="start", argument="src1")],
        ),
        (
            "/start with a payload no deep link carries",
            {"update_id": 1001, "message": message("/start a b!")},
            [said("/start a b!", command="start")],
        ),
        (
            "/start with a payload of 65",
            {"update_id": 1001, "message": message("/start " + "a" * 65)},
            [said("/start " + "a" * 65, command="start")],
        ),
        (
            "/start with a payload of 64",
            {"update_id": 1001, "message": message("/start " + "a" * 64)},
            [said("/start " + "a" * 64, command="start", argument="a" * 64)],
        ),
        ("/stop", {"update_id": 1001, "message": message("/stop")}, [said("/stop", command="stop")]),
        (
            "/stop@botname",
            {"update_id": 1001, "message": message("/stop@gdansk_pyta_bot")},
            [said("/stop@gdansk_pyta_bot", command="stop")],
        ),
        ("/help in capitals", {"update_id": 1001, "message": message("/HELP")}, [said("/HELP", command="help")]),
        (
            "/language uk",
            {"update_id": 1001, "message": message("/language uk")},
            [said("/language uk", command="language", argument="uk")],
        ),
        ("an unknown command is text", {"update_id": 1001, "message": message("/foo")}, [said("/foo")]),
        ("an edit is not a new answer", {"update_id": 1001, "edited_message": message("nie", edit_date=DATE + 9)}, []),
        ("a group", {"update_id": 1001, "message": message("tak", chat_type="group")}, []),
        ("a supergroup", {"update_id": 1001, "message": message("tak", chat_type="supergroup")}, []),
        ("a channel post", {"update_id": 1001, "channel_post": message("tak", chat_type="channel")}, []),
        (
            "a sticker",
            {"update_id": 1001, "message": message(None, sticker={"file_id": "x", "emoji": "👍"})},
            [said("")],
        ),
        (
            "a photo with a caption",
            {"update_id": 1001, "message": message(None, photo=[], caption="zdjęcie")},
            [said("zdjęcie")],
        ),
        ("blocking the bot", membership("kicked"), [said("", command="stop", opted_out_by_provider=True)]),
        ("unblocking the bot", membership("member"), []),
        ("an update kind we do not read", {"update_id": 1001, "inline_query": {"id": "1"}}, []),
        ("no update_id", {"message": message("tak")}, InvalidRequest),
        ("a string update_id", {"update_id": "1001", "message": message("tak")}, InvalidRequest),
        ("not an object", [1, 2], InvalidRequest),
        ("a message without chat", {"update_id": 1001, "message": {"message_id": 1, "text": "x"}}, InvalidRequest),
        (
            "a tap without id",
            {"update_id": 1001, "callback_query": {"from": user(), "data": "a:1:q:k"}},
            InvalidRequest,
        ),
    ],
)
def test_parse_update_table(label: str, update: object, expected: list[Inbound] | type[Exception]) -> None:
    if isinstance(expected, type):
        with pytest.raises(expected):
            parse_update(update, now=NOW)
        return
    assert parse_update(update, now=NOW) == expected, label
