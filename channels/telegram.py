"""The Telegram channel: python-telegram-bot's `Bot` over HTTP, no Application, no PTB rate limiter.

Sending goes through `telegram.Bot` (the project's own limiter governs the pace); reading an update
is pure: `parse_update` turns the update JSON into `Inbound`s and needs no running bot, so the same
function serves the webhook route and long polling (`get_updates` returns the raw update dicts).

One-tap answers are inline keyboard buttons whose callback data names the question:
"a:{campaign}:{question}:{key}", or "i:{campaign}:{question}:{number}" (the option's 1-based number,
as numbered lines count it) when the key does not fit Telegram's 64 bytes. A tap arrives as an
`Inbound` whose `text` is that key or number, so the flow engine reads it like a typed reply.
A multi question gets toggles "t:{campaign}:{question}:{number}" and a "done" button
"d:{campaign}:{question}:ok"; what is picked so far is kept by the caller (the conversation's state),
never here, and shown by `show_selection`.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import warnings
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, NamedTuple

import httpx
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from channels.base import (
    ButtonTap,
    Capabilities,
    Inbound,
    InvalidRequest,
    Outbound,
    Request,
    SendError,
    Sent,
    TapAction,
    render_plain,
)

log = logging.getLogger(__name__)

TELEGRAM = "telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
CALLBACK_DATA_LIMIT = 64  # bytes of UTF-8, Telegram's limit for callback_data
ALLOWED_UPDATES = ("message", "callback_query", "my_chat_member")
COMMANDS = frozenset({"start", "stop", "help", "language"})
MAX_BUTTONS = 100  # Telegram's limit per inline keyboard
MAX_ROW = 8  # Telegram's limit of buttons in one row
_GATEWAY_GAVE_UP = ("bad gateway", "gateway timeout")  # 502 and 504, as PTB words them
CALLBACK_NOTICE_LIMIT = 200  # characters answerCallbackQuery shows
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
_START_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")
_ARGUMENT_LIMIT = 64
_CHOICE_STYLES = ("numbered", "values", "multi")  # any other style is sent as numbered lines


class TelegramApiError(Exception):
    """A Bot API call other than a send failed (getMe, setWebhook, getUpdates, …).

    retryable: a network failure or a server error; the same call may work later. Otherwise the
    configuration is wrong (a rejected token, a webhook set while polling, a bad webhook URL).
    """

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


# ---------------------------------------------------------------------------------------------
# Logging: httpx logs request URLs (the token is part of the path) at INFO; PTB logs its base URL
# (token included) and every call's parameters (chat ids, texts) at DEBUG.


class _TokenRedactor(logging.Filter):
    """Replaces bot tokens in log records and withholds the parameters PTB logs at DEBUG."""

    _WITHHELD = (
        "Calling Bot API endpoint",
        "Call to Bot API endpoint",
        "Getting updates",
        "Error while parsing updates",
    )

    def __init__(self) -> None:
        super().__init__()
        self.tokens: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        template = str(record.msg)
        if record.name.startswith("telegram") and template.startswith(self._WITHHELD):
            # These carry chat ids and texts (personal data): keep the endpoint, drop the rest.
            endpoint = record.args[0] if isinstance(record.args, tuple) and record.args else None
            named = f" {endpoint}" if isinstance(endpoint, str) and "endpoint" in template else ""
            record.msg = f"{template.split('`', 1)[0].split('%', 1)[0].rstrip(' :')}{named} (parameters withheld)"
            record.args = None
            return True
        if not self.tokens:
            return True
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        redacted = message
        for token in self.tokens:
            redacted = redacted.replace(token, "<token>")
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


_REDACTOR = _TokenRedactor()
# Filters on a logger only see the records that logger emits, so each emitter gets one.
_EMITTERS = (
    "httpx",
    "telegram",
    "telegram.Bot",
    "telegram.request.BaseRequest",
    "telegram.request.HTTPXRequest",
)
_QUIETED = ("httpx", "httpcore", "telegram")


def silence_token_logging(token: str | None = None) -> None:
    """Keep the bot token (and PTB's parameter dumps with chat ids and texts) out of the logs.

    Sets the httpx, httpcore and telegram loggers to WARNING; whoever turns them up again later (to
    debug the HTTP layer) still sees "<token>" in place of `token`, and PTB's DEBUG lines without
    their parameters. Idempotent; every channel instance adds its token.
    """
    if token:
        _REDACTOR.tokens.add(token)
    for name in _EMITTERS:
        logger = logging.getLogger(name)
        if _REDACTOR not in logger.filters:
            logger.addFilter(_REDACTOR)
    for name in _QUIETED:
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:  # NOTSET (0) included
            logger.setLevel(logging.WARNING)


# ---------------------------------------------------------------------------------------------
# Callback data and keyboards (pure).


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


def compose(outbound: Outbound) -> tuple[str, InlineKeyboardMarkup | None]:
    """The text and keyboard to send: buttons where they can be, numbered lines otherwise."""
    keyboard = build_keyboard(outbound)
    if keyboard is None:
        return render_plain(outbound), None
    return outbound.text, keyboard


# ---------------------------------------------------------------------------------------------
# Error classification (pure).


def _retry_after_seconds(error: RetryAfter) -> float:
    # PTB 22 gives a timedelta with PTB_TIMEDELTA=1, else an int after a deprecation warning.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value: int | float | timedelta = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _scrub(message: str, outbound: Outbound) -> str:
    for secret in (outbound.address, outbound.text):
        if secret:
            message = message.replace(secret, "…")
    return message


def classify_send_error(error: TelegramError, outbound: Outbound) -> SendError | None:
    """The SendError for a failed send; None when the outcome is unknown (the request may have
    reached Telegram and the message may be out: never resend it)."""
    description = _scrub(error.message, outbound)
    lowered = description.lower()
    if isinstance(error, RetryAfter):
        seconds = _retry_after_seconds(error)
        return SendError(f"telegram: rate limited, retry after {seconds:g}s", retryable=True, retry_after=seconds)
    if isinstance(error, Forbidden):
        if "blocked by the user" in lowered:
            return SendError("telegram: the bot was blocked by the user", retryable=False, stop_contact=True)
        if "user is deactivated" in lowered:
            return SendError("telegram: the user's account is deleted", retryable=False, stop_contact=True)
        if "can't initiate conversation" in lowered:
            return SendError("telegram: unreachable: never started the bot", retryable=False, address_invalid=True)
        return SendError(f"telegram: forbidden: {description}", retryable=False)
    if isinstance(error, InvalidToken):
        return SendError("telegram: the bot token was rejected", retryable=False)
    if isinstance(error, BadRequest):
        return SendError(f"telegram: rejected: {description}", retryable=False)
    if isinstance(error, TimedOut):
        # Waiting for a pooled connection or for the connection itself: nothing was written.
        if isinstance(error.__cause__, httpx.PoolTimeout | httpx.ConnectTimeout):
            return SendError("telegram: could not connect in time", retryable=True)
        return None  # read/write timeout: the request may have been delivered
    if isinstance(error, NetworkError):
        cause = error.__cause__
        if isinstance(cause, httpx.ConnectError):
            return SendError("telegram: could not connect", retryable=True)
        if cause is None or isinstance(cause, TelegramError):
            if lowered.startswith(_GATEWAY_GAVE_UP) or any(f"({code})" in lowered for code in ("502", "504")):
                return None  # a gateway that gave up waiting: the message may have gone through
            # Raised from an HTTP error status (500, 503, 429 without retry_after): Telegram answered.
            return SendError(f"telegram: server error: {description}", retryable=True)
        return None  # the connection broke after the request was written
    if type(error) is TelegramError:
        return None  # e.g. an unreadable 2xx answer: the message may be out
    return SendError(f"telegram: {type(error).__name__}: {description}", retryable=False)


def _api_error(what: str, error: TelegramError) -> TelegramApiError:
    retryable = isinstance(error, NetworkError | RetryAfter)
    return TelegramApiError(f"telegram {what} failed: {type(error).__name__}: {error.message}", retryable=retryable)


# ---------------------------------------------------------------------------------------------
# Reading updates (pure).


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


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


# ---------------------------------------------------------------------------------------------
# The channel.


class TelegramChannel:
    name = TELEGRAM
    capabilities: ClassVar[Capabilities] = Capabilities(max_length=4096, buttons=True, signed_webhooks=True)

    def __init__(
        self,
        *,
        token: str,
        api_base_url: str,
        webhook_secret: str | None,
        timeout: float = 10.0,
        connection_pool_size: int = 16,
    ) -> None:
        if not token or any(char.isspace() for char in token):
            raise ValueError("telegram: the bot token is empty or has whitespace")
        if webhook_secret is not None and not _SECRET.fullmatch(webhook_secret):
            raise ValueError("telegram: the webhook secret must be 1-256 characters of A-Z a-z 0-9 _ -")
        silence_token_logging(token)  # before Bot(), which logs its URL (token included) at DEBUG
        self._secret = webhook_secret
        self._timeout = timeout
        base = api_base_url.rstrip("/")

        def request(pool: int) -> HTTPXRequest:
            return HTTPXRequest(
                connection_pool_size=pool,
                connect_timeout=timeout,
                read_timeout=timeout,
                write_timeout=timeout,
                pool_timeout=timeout,
            )

        self._bot = Bot(
            token,
            base_url=f"{base}/bot",
            base_file_url=f"{base}/file/bot",
            request=request(connection_pool_size),
            get_updates_request=request(1),
        )

    async def start(self) -> None:
        """Open the HTTP clients and check the token (getMe)."""
        try:
            await self._bot.initialize()
        except TelegramError as error:
            raise _api_error("getMe", error) from error

    async def close(self) -> None:
        await self._bot.shutdown()

    async def __aenter__(self) -> TelegramChannel:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def username(self) -> str | None:
        """The bot's @username after `start` (for deep links t.me/USERNAME?start=SOURCE)."""
        try:
            return self._bot.username
        except RuntimeError:
            return None

    async def set_webhook(self, url: str) -> None:
        if self._secret is None:
            raise ValueError("telegram: a webhook needs a secret")
        try:
            await self._bot.set_webhook(url=url, secret_token=self._secret, allowed_updates=list(ALLOWED_UPDATES))
        except TelegramError as error:
            raise _api_error("setWebhook", error) from error

    async def delete_webhook(self) -> None:
        try:
            await self._bot.delete_webhook()
        except TelegramError as error:
            raise _api_error("deleteWebhook", error) from error

    async def get_updates(self, offset: int | None, poll_seconds: int) -> list[dict[str, Any]]:
        """Long-poll for updates (webhook off), waiting up to `poll_seconds` for one to come; feed each
        through `parse_update`, then poll again with offset = the last update_id + 1, which confirms
        everything before it."""
        try:
            updates = await self._bot.get_updates(
                offset=offset, timeout=poll_seconds, allowed_updates=list(ALLOWED_UPDATES)
            )
        except TelegramError as error:
            raise _api_error("getUpdates", error) from error
        # PTB parses each update; its JSON form is plain again (enums become strings) for `parse_update`.
        return [json.loads(update.to_json()) for update in updates]

    def verify(self, request: Request) -> bool:
        """The secret Telegram sends with every webhook call; without a configured secret, nothing passes."""
        if not self._secret:
            return False
        given = _header(request.headers, SECRET_HEADER)
        if given is None:
            return False
        return hmac.compare_digest(given.encode(), self._secret.encode())

    def parse_inbound(self, request: Request) -> list[Inbound]:
        try:
            update = json.loads(request.body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise InvalidRequest("telegram update: the body is not JSON") from None
        return parse_update(update)

    async def send(self, outbound: Outbound) -> Sent:
        try:
            chat_id = int(outbound.address)
        except ValueError:
            raise SendError("telegram: the address is not a numeric chat id", retryable=False) from None
        text, keyboard = compose(outbound)
        try:
            message = await self._bot.send_message(chat_id=chat_id, text=text, reply_markup=keyboard)
        except TelegramError as error:
            classified = classify_send_error(error, outbound)
            if classified is None:
                raise
            raise classified from error
        return Sent(provider_id=str(message.message_id))

    async def acknowledge_tap(
        self,
        tap: ButtonTap,
        *,
        chat_id: str,
        notice: str,
        chosen_label: str | None,
        question_text: str | None = None,
    ) -> bool:
        """Stop the tapped button's spinner with `notice`; when an answer was taken (`chosen_label`),
        take the keyboard off the question, and with `question_text` (the text sent) show "✓ label"
        under it. Best effort: False when a call failed (the answer is stored either way)."""
        done = await self._answer_tap(tap, notice)
        if chosen_label is None or tap.message_id is None:
            return done
        chat, message_id = int(chat_id), int(tap.message_id)
        shown = f"{question_text}\n\n✓ {chosen_label}" if question_text else None
        try:
            if shown is not None and len(shown) <= self.capabilities.max_length:
                await self._bot.edit_message_text(text=shown, chat_id=chat, message_id=message_id)
            else:
                await self._bot.edit_message_reply_markup(chat_id=chat, message_id=message_id, reply_markup=None)
        except TelegramError as error:
            log.warning("telegram: editing a tapped question failed (%s)", type(error).__name__)
            done = False
        return done

    async def _answer_tap(self, tap: ButtonTap, notice: str) -> bool:
        """Stop the tapped button's spinner, showing `notice`; False when Telegram refused."""
        try:
            await self._bot.answer_callback_query(tap.callback_id, text=notice[:CALLBACK_NOTICE_LIMIT] or None)
        except TelegramError as error:
            log.warning("telegram: acknowledging a tap failed (%s)", type(error).__name__)
            return False
        return True

    async def show_selection(
        self, tap: ButtonTap, *, chat_id: str, notice: str, outbound: Outbound, selected: frozenset[str]
    ) -> bool:
        """After a toggle on a multi question: stop the spinner with `notice` and redraw the keyboard
        of `outbound` (the question as sent) with ☑ on the `selected` option keys. Best effort."""
        done = await self._answer_tap(tap, notice)
        keyboard = build_keyboard(outbound, selected)
        if tap.message_id is None or keyboard is None:
            return done
        try:
            await self._bot.edit_message_reply_markup(
                chat_id=int(chat_id), message_id=int(tap.message_id), reply_markup=keyboard
            )
        except TelegramError as error:
            log.warning("telegram: redrawing a keyboard failed (%s)", type(error).__name__)
            done = False
        return done


def update_request(update: Mapping[str, Any], secret: str | None) -> Request:
    """A webhook `Request` carrying one update, as Telegram posts it (for polling loops and tests)."""
    headers = {SECRET_HEADER: secret} if secret else {}
    return Request(
        url="/webhooks/telegram",
        headers=headers,
        body=json.dumps(update).encode(),
    )
