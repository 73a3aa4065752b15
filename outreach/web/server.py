"""Running the HTTP service until SIGINT or SIGTERM, then stopping cleanly."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from outreach.bootstrap import bootstrap
from outreach.settings import Settings
from outreach.web.app import create_app
from storage.db import is_sqlite
from storage.migrate import upgrade

log = logging.getLogger(__name__)


async def serve_forever(settings: Settings, *, host: str, port: int) -> None:
    services = bootstrap(settings)
    if is_sqlite(settings.database_url):
        # The embedded default must work with no set-up step; PostgreSQL is upgraded by an operator
        # (`outreach db upgrade`), once, not by every worker at once.
        await upgrade(services.engine)
    runner = web.AppRunner(create_app(services), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0]
    print(f"outreach listening on http://{bound[0]}:{bound[1]}", flush=True)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    try:
        await stopping.wait()
    finally:
        log.info("stopping: finishing sends in flight")
        await runner.cleanup()
        await services.close()
