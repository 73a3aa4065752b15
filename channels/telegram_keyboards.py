"""One-tap answers on Telegram (pure): inline keyboards and the callback data of their buttons.

A button's callback data names the question: "a:{campaign}:{question}:{key}", or
"i:{campaign}:{question}:{number}" (the option's 1-based number, as numbered lines count it) when the
key does not fit Telegram's 64 bytes. A tap arrives as an `Inbound` whose `text` is that key or number
(`telegram_updates.parse_update`), so the flow engine reads it like a typed reply. A multi question
gets toggles "t:{campaign}:{question}:{number}" and a "done" button "d:{campaign}:{question}:ok"; what
is picked so far is kept by the caller (the conversation's state), never here, and shown by
`TelegramChannel.show_selection`. `compose` gives the text and keyboard a question is sent with.
"""

from __future__ import annotations

from typing import NamedTuple

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from channels.base import Outbound, TapAction, render_plain

CALLBACK_DATA_LIMIT = 64  # bytes of UTF-8, Telegram's limit for callback_data
MAX_BUTTONS = 100  # Telegram's limit per inline keyboard
MAX_ROW = 8  # Telegram's limit of buttons in one row
_CHOICE_STYLES = ("numbered", "values", "multi")  # any other style is sent as numbered lines


class CallbackData(NamedTuple):
    campaign_id: int
    question_id: str
    key: str  # the option key, or its 1-based number when is_index (always for toggles); "" to submit
    is_index: bool
    action: TapAction = "answer"


_ACTIONS: dict[str, TapAction] = {"a": "answer", "i": "answer", "t": "toggle", "d": "submit"}
SUBMIT_KEY = "ok"  # the last part of a "done" button's data: never an option


def _fits(data: str) -> bool:
    return len(data.encode("utf-8")) <= CALLBACK_DATA_LIMIT


def encode_callback_data(campaign_id: int, question_id: str, key: str, number: int) -> str | None:
    """ "a:{campaign}:{question}:{key}", else "i:{campaign}:{question}:{number}" when the key is too long
    (or holds a colon); None when even that exceeds 64 bytes."""
    if ":" not in key:
        data = f"a:{campaign_id}:{question_id}:{key}"
        if _fits(data):
            return data
    data = f"i:{campaign_id}:{question_id}:{number}"
    return data if _fits(data) else None


def encode_toggle_data(campaign_id: int, question_id: str, number: int) -> str | None:
    """ "t:{campaign}:{question}:{number}": pick or unpick an option of a multi question."""
    data = f"t:{campaign_id}:{question_id}:{number}"
    return data if _fits(data) else None


def encode_submit_data(campaign_id: int, question_id: str) -> str | None:
    """ "d:{campaign}:{question}:ok": the "done" button of a multi question."""
    data = f"d:{campaign_id}:{question_id}:{SUBMIT_KEY}"
    return data if _fits(data) else None


def decode_callback_data(data: str) -> CallbackData:
    """The inverse of the encoders; ValueError for anything this channel did not write."""
    kind, _, rest = data.partition(":")
    campaign, _, rest = rest.partition(":")
    question, _, key = rest.rpartition(":")  # keys hold no colon; question ids may
    action = _ACTIONS.get(kind)
    if action is None or not campaign.isdecimal() or not question or not key:
        raise ValueError("not a callback data of this channel")
    numbered = kind in ("i", "t")
    if numbered and (not key.isdecimal() or int(key) < 1):
        raise ValueError("not a callback data of this channel")
    if kind == "d":
        if key != SUBMIT_KEY:
            raise ValueError("not a callback data of this channel")
        key = ""
    return CallbackData(int(campaign), question, key, numbered, action)


def question_of(outbound_key: str) -> tuple[int, str] | None:
    """(campaign id, question id) of an outbox key "q:{campaign}:{resident}:{question}:{attempt}"."""
    if not outbound_key.startswith("q:"):
        return None
    head, _, attempt = outbound_key.rpartition(":")
    parts = head.split(":", 3)
    if len(parts) != 4 or not attempt or not parts[1].isdecimal() or not parts[3]:
        return None
    return int(parts[1]), parts[3]


def button_text(label: str, number: int) -> str:
    """The label; a label of only emoji or symbols gets its number in front ("2) 👍")."""
    label = label.strip()
    return label if any(char.isalnum() for char in label) else f"{number}) {label}".rstrip()


def _rows(buttons: list[InlineKeyboardButton], one_row: bool) -> list[list[InlineKeyboardButton]]:
    if not one_row:
        return [[button] for button in buttons]
    rows = -(-len(buttons) // MAX_ROW)  # a long scale wraps into even rows of at most 8
    size = -(-len(buttons) // rows)
    return [buttons[start : start + size] for start in range(0, len(buttons), size)]


def build_keyboard(outbound: Outbound, selected: frozenset[str] | None = None) -> InlineKeyboardMarkup | None:
    """The inline keyboard for an outbound's choices; None when it has none or they cannot be buttons
    (not a question, an unknown style, too many, callback data too long). A multi question gets a
    toggle per option, ☑ on those in `selected` (option keys; by default the choices marked picked),
    and a "done" button."""
    question = question_of(outbound.key)
    if not outbound.choices or question is None or outbound.choice_style not in _CHOICE_STYLES:
        return None
    if len(outbound.choices) + (outbound.choice_style == "multi") > MAX_BUTTONS:
        return None
    if outbound.choice_style == "multi":
        ticked = frozenset(c.key for c in outbound.choices if c.picked) if selected is None else selected
        return _toggle_keyboard(outbound, *question, ticked)
    campaign_id, question_id = question
    values = outbound.choice_style == "values"
    buttons = []
    for number, choice in enumerate(outbound.choices, start=1):
        data = encode_callback_data(campaign_id, question_id, choice.key, number)
        # On a scale a bare number is a value, not a position: no index fallback there.
        if data is None or (values and data.startswith("i:")):
            return None
        buttons.append(InlineKeyboardButton(button_text(choice.label, number), callback_data=data))
    return InlineKeyboardMarkup(_rows(buttons, one_row=values))


def _toggle_keyboard(
    outbound: Outbound, campaign_id: int, question_id: str, selected: frozenset[str]
) -> InlineKeyboardMarkup | None:
    rows = []
    for number, choice in enumerate(outbound.choices, start=1):
        data = encode_toggle_data(campaign_id, question_id, number)
        if data is None:
            return None
        # The number stays in sight: the question's hint says a typed "1,3" works too.
        mark = "☑" if choice.key in selected else "☐"
        rows.append([InlineKeyboardButton(f"{mark} {number}) {choice.label.strip()}".rstrip(), callback_data=data)])
    submit = encode_submit_data(campaign_id, question_id)
    if submit is None:
        return None
    rows.append([InlineKeyboardButton(f"✓ {outbound.submit_label or 'OK'}", callback_data=submit)])
    return InlineKeyboardMarkup(rows)


def layout(outbound: Outbound) -> tuple[str, tuple[tuple[str, ...], ...]]:
    """What `compose` sends, as plain text and button labels row by row (for previews)."""
    text, keyboard = compose(outbound)
    rows = tuple(tuple(button.text for button in row) for row in keyboard.inline_keyboard) if keyboard else ()
    return text, rows


def compose(outbound: Outbound) -> tuple[str, InlineKeyboardMarkup | None]:
    """The text and keyboard to send: buttons where they can be, numbered lines otherwise."""
    keyboard = build_keyboard(outbound)
    if keyboard is None:
        return render_plain(outbound), None
    return outbound.text, keyboard
