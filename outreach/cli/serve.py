"""`outreach serve`: the HTTP service (webhooks, the API, /healthz) with the dispatcher."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from outreach.cli.runner import load_settings


def serve(
    host: Annotated[
        str | None,
        typer.Option(help="Interface to bind; default OUTREACH_HOST, else 127.0.0.1 (development) or 0.0.0.0."),
    ] = None,
    port: Annotated[int, typer.Option(help="Port to bind (0 picks a free one).", min=0, max=65535)] = 8080,
) -> None:
    """Run the HTTP service (webhooks, /healthz) with the dispatcher."""
    from outreach.logs import configure_logging
    from outreach.web.server import serve_forever

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    asyncio.run(serve_forever(settings, host=host, port=port))
