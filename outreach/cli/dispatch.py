"""`outreach dispatch`: the outbox dispatcher alone (a worker without HTTP)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from outreach.bootstrap import Services, announce_channels
from outreach.cli.runner import console, load_settings, run_with_services
from outreach.logs import configure_logging


def dispatch(
    until_idle: Annotated[bool, typer.Option("--until-idle", help="Exit once nothing is due.")] = False,
) -> None:
    """Run only the outbox dispatcher (a worker without HTTP)."""

    async def work(services: Services) -> None:
        announce_channels(services)
        if until_idle:
            sent = await services.dispatcher.drain()
            console.print(f"handled {sent} messages")
            return
        await services.dispatcher.run(asyncio.Event(), services.settings.dispatcher_poll_seconds)

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    run_with_services(work)
