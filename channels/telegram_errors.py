"""What a failed Telegram Bot API call means (pure): a typed `SendError`, or a `TelegramApiError`.

A send is classified once, here: retryable, permanent (a blocked bot stops the contact, a chat that was
never started marks the address invalid) or None when the outcome is unknown (the message may be out:
never resend it). Messages never hold the chat id nor the text.
"""

from __future__ import annotations

import warnings
from datetime import timedelta

import httpx
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.warnings import PTBDeprecationWarning

from channels.base import Outbound, SendError

_GATEWAY_GAVE_UP = ("bad gateway", "gateway timeout")  # 502 and 504, as PTB words them


class TelegramApiError(Exception):
    """A Bot API call other than a send failed (getMe, setWebhook, getUpdates, …).

    retryable: a network failure or a server error; the same call may work later. Otherwise the
    configuration is wrong (a rejected token, a webhook set while polling, a bad webhook URL).
    """

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


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


def api_error(what: str, error: TelegramError, token: str) -> TelegramApiError:
    """The error for a failed Bot API call other than a send (`what`: getMe, setWebhook, …), without
    the bot token: PTB words a rejected getMe as "The token `ID:SECRET` was rejected by the server".
    Raise it `from None`: the PTB error it replaces would carry the token along in the chain."""
    retryable = isinstance(error, NetworkError | RetryAfter)
    description = redact_token(error.message, token)
    return TelegramApiError(f"telegram {what} failed: {type(error).__name__}: {description}", retryable=retryable)


def redact_token(text: str, token: str) -> str:
    """`text` with the bot token's secret part (after "ID:", also alone, as in a URL) replaced."""
    secret = token.partition(":")[2] or token
    return text.replace(secret, "<token>") if secret else text
