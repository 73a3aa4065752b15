"""`outreach work`: what `serve` does beside its HTTP, without it (a worker for `serve --web-only`)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from outreach.cli.runner import fail, load_settings


def work(
    host: Annotated[
        str | None,
        typer.Option(help="Interface for --port; default OUTREACH_HOST, else 127.0.0.1 (development) or 0.0.0.0."),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            help="Serve /healthz and /metrics here (0 picks a free one); none unless given.", min=0, max=65535
        ),
    ] = None,
) -> None:
    """Handle the webhook messages `serve --web-only` processes stored, and send, schedule and poll as
    `serve` does; no webhooks. SIGTERM finishes what is in hand."""
    from outreach.logs import configure_logging
    from outreach.web.server import CannotListen, work_forever

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    try:
        asyncio.run(work_forever(settings, host=host, port=port))
    except CannotListen as refused:
        raise fail(str(refused)) from None
