"""`outreach serve`: the HTTP service (webhooks, the API, /healthz) with the dispatcher."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from outreach.cli.runner import fail, load_settings

# Measured (bench/inbound.py, SQLite, a niced `outreach work` beside): 296 req/s closed-loop against 1,179
# for `serve` alone, p99 839 ms. One writer at a time: the worker's handling holds the lock the web
# process stores messages under, so each waits in SQLite's sleeping busy handler.
WEB_ONLY_NEEDS_POSTGRESQL = (
    "serve --web-only needs PostgreSQL: on SQLite only one process writes at a time, and the web process"
    " would wait for `outreach work`'s handling to store each message (a quarter of `serve` alone's rate)."
    " Run `outreach serve` without it, or set OUTREACH_DATABASE_URL to PostgreSQL."
)


def serve(
    host: Annotated[
        str | None,
        typer.Option(help="Interface to bind; default OUTREACH_HOST, else 127.0.0.1 (development) or 0.0.0.0."),
    ] = None,
    port: Annotated[int, typer.Option(help="Port to bind (0 picks a free one).", min=0, max=65535)] = 8080,
    web_only: Annotated[
        bool,
        typer.Option(
            "--web-only",
            help="HTTP alone: webhook messages are stored and answered, and `outreach work` processes"
            " handle them and send (a burst is then answered at the pace of storing).",
        ),
    ] = False,
) -> None:
    """Run the HTTP service (webhooks, /healthz) with the dispatcher."""
    from outreach.logs import configure_logging
    from outreach.web.server import CannotListen, serve_forever
    from storage.db import is_sqlite

    settings = load_settings()
    if web_only and is_sqlite(settings.database_url):
        raise fail(WEB_ONLY_NEEDS_POSTGRESQL, code=2)
    configure_logging(settings.log_level, settings.log_format)
    try:
        asyncio.run(serve_forever(settings, host=host, port=port, web_only=web_only))
    except CannotListen as refused:
        raise fail(str(refused)) from None
