"""The Telegram channel: python-telegram-bot's `Bot` over HTTP, no Application, no PTB rate limiter.

Sending goes through `telegram.Bot` (the project's own limiter governs the pace): the text and inline
keyboard of a question are `telegram_keyboards.compose`'s, a failed call is read by `telegram_errors`.
Reading an update is pure: `telegram_updates.parse_update` turns the update JSON into `Inbound`s and
needs no running bot, so the same function serves the webhook route and long polling (`get_updates`
returns the raw update dicts).
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from collections.abc import Mapping
from typing import Any, ClassVar

from telegram import Bot
from telegram.error import TelegramError
from telegram.request import HTTPXRequest

from channels import webhook_paths
from channels.base import (
    ButtonTap,
    Capabilities,
    Inbound,
    InvalidRequest,
    Outbound,
    Request,
    SendError,
    Sent,
)
from channels.telegram_errors import api_error, classify_send_error
from channels.telegram_keyboards import build_keyboard, compose
from channels.telegram_updates import TELEGRAM, parse_update

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ("message", "callback_query", "my_chat_member")
CALLBACK_NOTICE_LIMIT = 200  # characters answerCallbackQuery shows
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


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
# The channel.


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


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
        self._token = token  # to redact it from the errors we raise
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
            raise api_error("getMe", error, self._token) from None

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
            raise api_error("setWebhook", error, self._token) from None

    async def delete_webhook(self) -> None:
        try:
            await self._bot.delete_webhook()
        except TelegramError as error:
            raise api_error("deleteWebhook", error, self._token) from None

    async def get_updates(self, offset: int | None, poll_seconds: int) -> list[dict[str, Any]]:
        """Long-poll for updates (webhook off), waiting up to `poll_seconds` for one to come; feed each
        through `parse_update`, then poll again with offset = the last update_id + 1, which confirms
        everything before it."""
        try:
            updates = await self._bot.get_updates(
                offset=offset, timeout=poll_seconds, allowed_updates=list(ALLOWED_UPDATES)
            )
        except TelegramError as error:
            raise api_error("getUpdates", error, self._token) from None
        # PTB parses each update; its JSON form is plain again (enums become strings) for `parse_update`.
        return [json.loads(update.to_json()) for update in updates]

    def verify(self, request: Request) -> bool:
        """The secret Telegram sends with every webhook call; without a configured secret, nothing passes."""
        if not self._secret:
            return False
        given = _header(request.headers, SECRET_HEADER)
        if given is None:
            return False
        # A header that is not UTF-8 reaches us with surrogates in it (aiohttp's surrogateescape): compared
        # as bytes all the same, so it is refused (403), never an encoding error (500).
        return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), self._secret.encode())

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
        url=webhook_paths.TELEGRAM,
        headers=headers,
        body=json.dumps(update).encode(),
    )
