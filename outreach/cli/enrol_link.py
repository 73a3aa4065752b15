"""`outreach enrol-link SOURCE`: the Telegram link residents join by, and its QR code for a poster."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Protocol, runtime_checkable

import typer

from outreach.cli.runner import console, fail, run_with_services
from outreach.errors import CommandError

if TYPE_CHECKING:
    from outreach.bootstrap import Services

ENROL_SOURCE = re.compile(r"[A-Za-z0-9_-]{1,64}")


# What the command asks of the Telegram channel, said as a shape rather than as channels.telegram's
# class: importing that class brings python-telegram-bot and httpx (about 0.13 s) to every start-up,
# --help and --bot included (issue 18); the bootstrap imports them when Telegram is configured.
@runtime_checkable
class BotWithUsername(Protocol):
    async def start(self) -> None: ...

    @property
    def username(self) -> str | None: ...


def enrol_link(
    source: Annotated[str, typer.Argument(help="Where the code hangs, e.g. bus-stop-12 (A-Z a-z 0-9 _ -).")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="QR code PNG; enrol-SOURCE.png.")] = None,
    bot: Annotated[str | None, typer.Option(help="The bot's username; asked from Telegram when omitted.")] = None,
) -> None:
    """Print the Telegram link residents join by, and write it as a QR code for a poster."""
    if not ENROL_SOURCE.fullmatch(source):
        raise fail(f"source '{source}' must be 1-64 of A-Z a-z 0-9 _ - (Telegram's deep-link rule)")
    target = output or Path(f"enrol-{source}.png")
    import segno  # draws the QR code: only once the command runs

    async def work(services: Services) -> str:
        channel = services.channels.get("telegram")
        if bot:
            return bot
        if not isinstance(channel, BotWithUsername):
            raise CommandError("Telegram is not configured: set OUTREACH_TELEGRAM_BOT_TOKEN, or give --bot")
        await channel.start()
        if channel.username is None:
            raise CommandError("Telegram did not say the bot's username; give --bot")
        return channel.username

    username = run_with_services(work).lstrip("@")
    link = f"https://t.me/{username}?start={source}"
    segno.make(link, error="m").save(str(target), scale=10, border=4)
    console.print(link)
    console.print(f"QR code written to {target}")
