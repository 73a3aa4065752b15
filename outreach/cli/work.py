"""`outreach work`: what `serve` does beside its HTTP, without it (a worker for `serve --web-only`)."""

from __future__ import annotations

import asyncio

from outreach.cli.runner import load_settings


def work() -> None:
    """Handle the webhook messages `serve --web-only` processes stored, and send, schedule and poll as
    `serve` does; no HTTP. SIGTERM finishes what is in hand."""
    from outreach.logs import configure_logging
    from outreach.web.server import work_forever

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    asyncio.run(work_forever(settings))
