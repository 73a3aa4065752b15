"""The aiohttp application: health, webhooks, and the dispatcher running beside them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError

from channels.base import InvalidRequest, Request
from outreach.bootstrap import Services
from outreach.scheduler import lifecycle_scheduler

log = logging.getLogger(__name__)

SERVICES = web.AppKey("services", Services)
DISPATCHER_TASK = web.AppKey("dispatcher_task", asyncio.Task[None])
SCHEDULER = web.AppKey("scheduler", AsyncIOScheduler)

# What a store outage looks like from the driver: answered 503 so the provider retries later.
STORE_UNAVAILABLE = (OperationalError, DBAPIError, OSError, TimeoutError)


async def healthz(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    try:
        async with services.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except STORE_UNAVAILABLE:
        return web.json_response({"status": "unavailable", "database": "unreachable"}, status=503)
    return web.json_response({"status": "ok", "channels": sorted(services.channels)})


async def sandbox_webhook(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    channel = services.sandboxes.get(request.match_info["channel"])
    if channel is None:
        raise web.HTTPNotFound(text="no such sandbox channel")
    form = await request.post()
    channel_request = Request(
        url=services.settings.public_url.rstrip("/") + request.path_qs,
        headers=dict(request.headers),
        form={key: value for key, value in form.items() if isinstance(value, str)},
        body=b"",
    )
    if not channel.verify(channel_request):
        raise web.HTTPForbidden(text="signature does not match")
    try:
        inbounds = channel.parse_inbound(channel_request)
    except InvalidRequest as error:
        raise web.HTTPBadRequest(text=str(error)) from None
    try:
        outcomes = [await services.pipeline.handle(inbound) for inbound in inbounds]
    except STORE_UNAVAILABLE as error:
        log.warning("store unavailable, asking the provider to retry: %s", type(error).__name__)
        raise web.HTTPServiceUnavailable(text="store unavailable, retry later") from None
    return web.json_response({"outcomes": [outcome.value for outcome in outcomes]})


def create_app(services: Services, *, run_background: bool = True) -> web.Application:
    """The web app; with `run_background` it also runs the dispatcher and the lifecycle scheduler."""
    app = web.Application()
    app[SERVICES] = services
    app.router.add_get("/healthz", healthz)
    app.router.add_post("/webhooks/sandbox/{channel}", sandbox_webhook)
    if run_background:
        app.cleanup_ctx.append(_dispatcher_running)
        app.cleanup_ctx.append(_scheduler_running)
    return app


async def _scheduler_running(app: web.Application) -> AsyncIterator[None]:
    services = app[SERVICES]
    scheduler = lifecycle_scheduler(services.lifecycle, interval_seconds=services.settings.lifecycle_interval_seconds)
    app[SCHEDULER] = scheduler
    scheduler.start()
    yield
    scheduler.shutdown(wait=False)


async def _dispatcher_running(app: web.Application) -> AsyncIterator[None]:
    services = app[SERVICES]
    stopping = asyncio.Event()
    task = asyncio.create_task(
        services.dispatcher.run(stopping, services.settings.dispatcher_poll_seconds), name="dispatcher"
    )
    app[DISPATCHER_TASK] = task
    yield
    stopping.set()  # finish the sends in flight, then stop
    await task
