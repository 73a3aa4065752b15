"""Telegram's failed sends, classified: retryable, permanent, or an unknown outcome (None), scrubbed.

The same classes against the Bot API stand-in are in tests/channels/test_telegram.py's send error table.
"""

from __future__ import annotations

import httpx
import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError, TimedOut

from channels.base import Choice, Outbound
from channels.telegram_errors import classify_send_error

CHAT = 4242001
TEXT = "Czy jeździsz tramwajem?"
QUESTION = Outbound("q:3:17:uses_tram:0", "telegram", str(CHAT), TEXT, (Choice("yes", "tak"), Choice("no", "nie")))


def caused(error: TelegramError, cause: BaseException) -> TelegramError:
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    ("label", "error", "retryable"),
    [
        ("pool timeout: never sent", caused(TimedOut("Pool timeout"), httpx.PoolTimeout("")), True),
        ("connect timeout: never sent", caused(TimedOut(), httpx.ConnectTimeout("")), True),
        ("read timeout: maybe sent", caused(TimedOut(), httpx.ReadTimeout("")), None),
        ("write timeout: maybe sent", caused(TimedOut(), httpx.WriteTimeout("")), None),
        ("refused", caused(NetworkError("httpx.ConnectError"), httpx.ConnectError("refused")), True),
        ("reset after writing", caused(NetworkError("httpx.ReadError"), httpx.ReadError("")), None),
        ("unknown failure inside httpx", caused(NetworkError("Unknown error"), RuntimeError("x")), None),
        ("a 5xx answer", NetworkError("Internal Server Error (500)"), True),
        ("503", NetworkError("Service Unavailable"), True),
        ("a gateway's 502 page", caused(NetworkError("Bad Gateway (502). Parsing … failed"), TelegramError("")), None),
        ("a gateway's 504 in JSON", NetworkError("Gateway Timeout"), None),
        ("a 504 by its number", NetworkError("Unknown HTTPError (504)"), None),
        ("an unreadable 2xx answer", caused(TelegramError("Invalid server response"), ValueError()), None),
        ("other bad request", BadRequest("Bad Request: message is too long"), False),
        ("forbidden in general", Forbidden("Forbidden: bot was kicked from the group chat"), False),
    ],
)
def test_classify_send_error_table(label: str, error: TelegramError, retryable: bool | None) -> None:
    classified = classify_send_error(error, QUESTION)
    if retryable is None:
        assert classified is None, label
    else:
        assert classified is not None and classified.retryable is retryable, label


def test_send_error_messages_are_scrubbed() -> None:
    error = classify_send_error(BadRequest(f"Bad Request: chat {CHAT} says {TEXT}"), QUESTION)
    assert error is not None
    assert str(CHAT) not in str(error) and TEXT not in str(error)
