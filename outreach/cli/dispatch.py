"""`outreach dispatch`: the outbox dispatcher alone (a worker without HTTP)."""

from __future__ import annotations

import asyncio
import signal
from typing import TYPE_CHECKING, Annotated

import typer

from outreach.cli.runner import console, load_settings, run_with_services

if TYPE_CHECKING:
    from outreach.bootstrap import Services


def dispatch(
    until_idle: Annotated[bool, typer.Option("--until-idle", help="Exit once nothing is due.")] = False,
) -> None:
    """Run only the outbox dispatcher and the outgoing webhooks (a worker without HTTP)."""
    from outreach.bootstrap import announce_channels, announce_keys
    from outreach.logs import configure_logging

    async def work(services: Services) -> None:
        announce_channels(services)
        announce_keys(services)
        if until_idle:
            sent = await services.dispatcher.drain()
            posted = await services.webhooks.drain()
            console.print(f"handled {sent} messages and {posted} webhook events and deliveries")
            return
        # SIGTERM (systemd's stop) and SIGINT end it as they end `serve`: sends in flight finish and
        # unstarted claims go back, rather than a killed process leaving sends of unknown outcome.
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stopping.set)
        await asyncio.gather(  # outgoing webhooks are outbound work too
            services.dispatcher.run(stopping, services.settings.dispatcher_poll_seconds),
            services.webhooks.run(stopping),
        )
        console.print("dispatcher stopped: sends in flight finished, unstarted claims handed back")

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    run_with_services(work)
