"""Running the HTTP service until SIGINT or SIGTERM, then stopping cleanly."""

from __future__ import annotations

import asyncio
import errno
import gc
import logging
import signal

from aiohttp import web

from outreach.bootstrap import Services, announce_channels, announce_keys, bootstrap
from outreach.errors import CommandError, system_reason
from outreach.settings import Settings
from outreach.web.app import background_app, create_app
from outreach.web.prometheus_telemetry import PrometheusTelemetry
from storage.db import is_sqlite
from storage.migrate import upgrade

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
EVERY_INTERFACE = "0.0.0.0"  # production's default: providers must reach the service

# What an operator can do about the usual reasons a bind is refused.
LISTEN_REMEDIES = {
    errno.EADDRINUSE: "another process listens there: stop it, or choose another --port",
    errno.EADDRNOTAVAIL: "not an address of this machine: check --host or OUTREACH_HOST",
    errno.EACCES: "ports below 1024 need privileges: choose a port of 1024 or more behind the TLS proxy",
}


class CannotListen(CommandError):
    """The interface and port asked for cannot be bound; said in one line, with what to do."""

    def __init__(self, host: str, port: int, error: OSError) -> None:
        reason = system_reason(error)
        remedy = LISTEN_REMEDIES.get(error.errno or 0)
        super().__init__(f"cannot listen on {host}:{port}: {reason}" + (f" ({remedy})" if remedy else ""))


def bind_host(settings: Settings, host: str | None) -> tuple[str, str]:
    """The interface `serve` binds (`host`: its --host option) and why, for its start-up line.

    Development binds loopback unless told otherwise: it may run the sandbox, need not have its secrets
    set (the pseudonym key, for one, is then made up), and checks no public URL, so it is not for a
    network.
    """
    if host:
        return host, f"{settings.env}, as --host says"
    if settings.host:
        return settings.host, f"{settings.env}, as OUTREACH_HOST says"
    if settings.env == "production":
        return EVERY_INTERFACE, "production: every interface; --host or OUTREACH_HOST to narrow"
    return LOOPBACK, (
        "development: loopback only, not for a network (sandbox, made-up secrets);"
        " --host or OUTREACH_HOST to bind elsewhere, OUTREACH_ENV=production to deploy"
    )


async def serve_forever(settings: Settings, *, host: str | None, port: int, web_only: bool = False) -> None:
    services = await _started(settings)
    host, why = bind_host(settings, host)
    runner = web.AppRunner(create_app(services, web_only=web_only), access_log=None)
    await runner.setup()
    bound = await _listening(runner, services, host, port)
    handled = "; webhook messages handled by `outreach work`" if web_only else ""
    print(f"outreach listening on http://{bound[0]}:{bound[1]} ({why}){handled}", flush=True)
    await _until_stopped(runner, services)


async def work_forever(settings: Settings, *, host: str | None = None, port: int | None = None) -> None:
    """`outreach work`: serve's background work without its webhooks (outreach.web.app.background_app);
    /healthz and /metrics on `port` when given."""
    services = await _started(settings)
    runner = web.AppRunner(background_app(services), access_log=None)
    await runner.setup()  # starts the workers
    listening = "no HTTP"
    if port is not None:
        host, why = bind_host(settings, host)
        bound = await _listening(runner, services, host, port)
        listening = f"/healthz and /metrics on http://{bound[0]}:{bound[1]} ({why})"
    print(f"outreach working: stored webhook messages, sends, schedule; {listening}", flush=True)
    await _until_stopped(runner, services)


async def _started(settings: Settings) -> Services:
    services = bootstrap(settings, telemetry=PrometheusTelemetry())  # counted here only: `serve` is scraped
    announce_channels(services)
    announce_keys(services)
    if is_sqlite(settings.database_url):
        # The embedded default must work with no set-up step; PostgreSQL is upgraded by an operator
        # (`outreach db upgrade`), once, not by every worker at once.
        await upgrade(services.engine, keyring=services.keyring)
    return services


async def _listening(runner: web.AppRunner, services: Services, host: str, port: int) -> tuple[str, int]:
    """The address `runner` now listens on; or, when the bind is refused, everything started is
    stopped cleanly (the workers finish what they hold) and CannotListen says why."""
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as error:
        await runner.cleanup()
        await services.close()
        raise CannotListen(host, port, error) from None
    bound: tuple[str, int] = runner.addresses[0][:2]
    return bound


def freeze_startup_heap() -> None:
    """What start-up made (modules, settings, services, the app) lives as long as the process: it goes
    out of the cyclic collector's way, so a full collection walks only what the work made since. A full
    pass over all of it stopped the loop for 60-120 ms here, and every send due meanwhile woke late for
    its limiter slot and gave it up (bench/send_rate.py's dispatcher rows)."""
    gc.collect()
    gc.freeze()


async def _until_stopped(runner: web.AppRunner, services: Services) -> None:
    """Until SIGINT or SIGTERM; then the runner's work finishes (sends in flight, messages in hand)."""
    freeze_startup_heap()
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
