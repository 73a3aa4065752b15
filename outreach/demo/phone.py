"""What reaches a simulated resident's phone and what they make of it: a message as the Twilio or
Telegram stand-in received it (text, and on Telegram its buttons), read by its wording as a question,
a re-ask or a reminder, with the options it offers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from channels.base import Choice
from channels.sms_segments import fold_to_gsm
from channels.standins.twilio import StoredMessage
from flows.campaign import Campaign
from flows.engine import ask_question
from flows.model import Question
from flows.texts import reask_hint, reminder_prefix

NUMBERED_LINE = re.compile(r"^(\d+)\) (.+)$", re.MULTILINE)


@dataclass(frozen=True)
class Button:
    label: str
    data: str  # the callback data a tap sends back


@dataclass(frozen=True)
class Received:
    """A message as it reached a resident: through which provider (the address kind), the text, and
    on Telegram the message id and the inline keyboard's buttons."""

    channel: str
    address: str
    text: str
    message_id: int | None = None
    buttons: tuple[Button, ...] = ()


def sms_received(message: StoredMessage) -> Received:
    """An SMS the Twilio stand-in accepted."""
    return Received(channel="sms", address=message.to, text=message.body)


def telegram_received(message: Mapping[str, Any]) -> Received | None:
    """A message the Telegram stand-in accepted (the Bot API's Message object); None if not to a chat."""
    chat, text = message.get("chat"), message.get("text")
    if not isinstance(chat, Mapping) or not isinstance(text, str):
        return None
    markup = message.get("reply_markup")
    rows = markup.get("inline_keyboard", []) if isinstance(markup, Mapping) else []
    buttons = tuple(
        Button(str(button["text"]), str(button["callback_data"]))
        for row in rows
        for button in row
        if isinstance(button, Mapping) and "callback_data" in button
    )
    return Received(
        channel="telegram",
        address=str(chat["id"]),
        text=text,
        message_id=int(message["message_id"]),
        buttons=buttons,
    )


@dataclass(frozen=True)
class Reading:
    """What a resident makes of a message: which question it asks, whether it is a re-ask (after a
    reply that fitted nothing) or a reminder, and the options offered with the key each one means."""

    question: Question
    reask: bool
    reminder: bool
    choices: tuple[Choice, ...]


def read_message(flow: Campaign, language: str, received: Received) -> Reading | None:
    """Read a message as its resident would: by its wording. None when it asks nothing (the outro,
    a reply to STOP)."""
    language = language if language in flow.languages else flow.default_language
    text = received.text
    asked = [q for q in flow.questions if q.text[language] in text or fold_to_gsm(q.text[language]) in text]
    if not asked:
        return None
    question = max(asked, key=lambda q: len(q.text[language]))  # a question inside a longer one: the longer
    offered = ask_question(question, language, attempt=0).choices  # the options, in the order shown
    shown = [button.label for button in received.buttons] or [label for _, label in NUMBERED_LINE.findall(text)]
    if len(shown) != len(offered):
        shown = [choice.label for choice in offered]
    reask = any(hint in text for hint in (reask_hint(question, language), fold_to_gsm(reask_hint(question, language))))
    reminder = text.startswith((reminder_prefix(language), fold_to_gsm(reminder_prefix(language))))
    return Reading(
        question=question,
        reask=reask,
        reminder=reminder,
        choices=tuple(Choice(choice.key, label) for choice, label in zip(offered, shown, strict=True)),
    )
