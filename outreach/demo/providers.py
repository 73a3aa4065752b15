"""The providers the demo talks to: the bundled Twilio and Telegram stand-ins on 127.0.0.1, with
fresh credentials each run, and where they deliver to the service, as the real providers are told.

The SDKs' own HTTP logs would name the bot token and the Twilio credentials: they are silenced while
the demo runs.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

from channels import webhook_paths
from channels.standins.telegram import TelegramStandIn
from channels.standins.twilio import TwilioStandIn

# The service's own SMS number (a fictional one: a number, not a name, so residents can reply) and its
# Telegram bot's id (the part of the token before the colon).
SMS_SENDER = "+48500000100"
TELEGRAM_BOT_ID = 7000000001
# Loggers of the provider SDKs and their HTTP clients, silenced while the demo runs.
PROVIDER_LOGGERS = ("twilio", "telegram", "httpx", "httpcore", "aiohttp.access", "aiohttp.client")


@dataclass(frozen=True)
class Providers:
    """The provider stand-ins and where they deliver to us, as the real providers would be told."""

    twilio: TwilioStandIn
    telegram: TelegramStandIn
    public_url: str
    telegram_secret: str

    @property
    def sms_webhook(self) -> str:
        return self.public_url + webhook_paths.TWILIO_INBOUND

    @property
    def telegram_webhook(self) -> str:
        return self.public_url + webhook_paths.TELEGRAM


@contextlib.asynccontextmanager
async def stand_ins() -> AsyncIterator[tuple[Providers, socket.socket]]:
    """The two stand-ins running with fresh credentials, and the listening socket of the service
    they deliver to (its address is their public URL); both closed afterwards."""
    twilio = TwilioStandIn(account_sid="AC" + secrets.token_hex(16), auth_token=secrets.token_hex(16))
    telegram = TelegramStandIn(f"{TELEGRAM_BOT_ID}:{secrets.token_urlsafe(26)}")
    async with twilio, telegram:
        sock = loopback_socket()
        try:
            host, port = sock.getsockname()[:2]
            yield Providers(twilio, telegram, f"http://{host}:{port}", secrets.token_urlsafe(24)), sock
        finally:
            sock.close()


def loopback_socket() -> socket.socket:
    """A listening address for the service on a free port of 127.0.0.1, taken before the settings
    are made (the public URL is in them) and served later: no other process can take it between."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.contextmanager
def provider_logs_silenced() -> Iterator[None]:
    """The SDKs' own HTTP logs name URLs (with the bot token) and headers (with the Twilio
    credentials): none of them reaches the demo's output. Restored afterwards."""
    loggers = [logging.getLogger(name) for name in PROVIDER_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
