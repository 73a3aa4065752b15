"""Telegram's one-tap answers: callback data encoded within 64 bytes and decoded back, foreign data refused.

The keyboards themselves are asserted as sent, in tests/channels/test_telegram.py's send table.
"""

from __future__ import annotations

import pytest

from channels.telegram_keyboards import (
    CallbackData,
    decode_callback_data,
    encode_callback_data,
    encode_submit_data,
    encode_toggle_data,
)

POLISH_KEY = "ż" * 30  # 30 characters, 60 bytes: "a:3:q:" + key fits in characters, not in bytes


@pytest.mark.parametrize(
    ("label", "campaign", "question", "key", "number", "data"),
    [
        ("key", 3, "uses_tram", "yes", 1, "a:3:uses_tram:yes"),
        ("exactly 64 bytes", 12, "q", "k" * 57, 1, "a:12:q:" + "k" * 57),
        ("65 bytes: the number", 12, "q", "k" * 58, 4, "i:12:q:4"),
        ("multibyte key over 64 bytes", 3, "q", POLISH_KEY, 2, "i:3:q:2"),
        ("multibyte key within 64 bytes", 3, "q", "ż" * 20, 2, "a:3:q:" + "ż" * 20),
        ("a colon in the key", 3, "q", "a:b", 2, "i:3:q:2"),
        ("a colon in the question", 3, "a:b", "yes", 1, "a:3:a:b:yes"),
        ("nothing fits", 3, "q" * 60, "yes", 1, None),
    ],
)
def test_callback_data_round_trip(
    label: str, campaign: int, question: str, key: str, number: int, data: str | None
) -> None:
    encoded = encode_callback_data(campaign, question, key, number)
    assert encoded == data, label
    if encoded is None:
        return
    assert len(encoded.encode()) <= 64
    by_number = encoded.startswith("i:")
    assert decode_callback_data(encoded) == CallbackData(
        campaign, question, str(number) if by_number else key, by_number
    )


@pytest.mark.parametrize(
    ("label", "data", "expected"),
    [
        ("a toggle names the option's number", "t:3:which:2", CallbackData(3, "which", "2", True, "toggle")),
        ("a question id with a colon", "t:3:a:b:1", CallbackData(3, "a:b", "1", True, "toggle")),
        ("done has no key", "d:3:which:ok", CallbackData(3, "which", "", False, "submit")),
    ],
)
def test_multi_callback_data(label: str, data: str, expected: CallbackData) -> None:
    assert decode_callback_data(data) == expected, label
    encoded = encode_toggle_data(3, expected.question_id, 2) if expected.action == "toggle" else None
    assert encoded is None or decode_callback_data(encoded).action == "toggle"
    assert encode_submit_data(3, "which") == "d:3:which:ok"
    assert encode_toggle_data(3, "q" * 60, 1) is None and encode_submit_data(3, "q" * 58) is None


@pytest.mark.parametrize(
    "data",
    [
        "",
        "a",
        "a:x:q:k",
        "a:1::k",
        "a:1:q:",
        "b:1:q:k",
        "i:1:q:0",
        "i:1:q:x",
        "vote:4",
        "t:1:q:0",
        "t:1:q:a",
        "d:1:q:1",
    ],
)
def test_decode_callback_data_refuses_foreign_data(data: str) -> None:
    with pytest.raises(ValueError):
        decode_callback_data(data)
