"""The aiohttp application: health, webhooks, and the dispatcher running beside them."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import AsyncIterator, Callable

from aiohttp import web
from sqlalchemy import text

from channels import webhook_paths
from channels.telegram import TelegramChannel
from outreach.bootstrap import Services
from outreach.campaigns.scheduler import RunningJobs, lifecycle_scheduler, report_store_errors
from outreach.inbound.leader import run_as_singleton
from outreach.inbound.mailbox import polling_mailbox
from outreach.inbound.spool_flusher import SpoolFlusher
from outreach.inbound.telegram_updates import poll, register_webhook
from outreach.rights.retention import Retention, add_retention_job
from outreach.web import email_links, privacy_notice, webhooks
from outreach.web.admin.pages import add_admin_pages
from outreach.web.api.application import API_PREFIX, add_api_routes
from outreach.web.api.import_job_routes import IMPORTS_PATH
from outreach.web.import_job_runner import import_jobs_running
from outreach.web.json_bodies import json_body_guard
from outreach.web.keys import DISPATCHER_TASK, INBOUND_SWEEP_SECONDS, SCHEDULER, SERVICES, handler_with_services
from outreach.web.metrics import add_metrics_route, webhook_timing
from storage.db import STORE_UNAVAILABLE

log = logging.getLogger(__name__)

__all__ = ["background_app", "create_app"]

# `outreach work` looks for messages a `--web-only` process stored this often (a reply is handled this
# long after its 2xx at most, when the worker is idle). A sweep that finds nothing is one SELECT.
WORK_SWEEP_SECONDS = 0.05


async def healthz(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    try:
        async with services.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except STORE_UNAVAILABLE:
        return web.json_response({"status": "unavailable", "database": "unreachable"}, status=503)
    return web.json_response({"status": "ok", "channels": sorted(services.channels)})


def create_app(
    services: Services,
    *,
    run_background: bool = True,
    web_only: bool = False,
    api_clock: Callable[[], float] = time.monotonic,
) -> web.Application:
    """The web app; with `run_background` it also runs the dispatcher and the lifecycle scheduler.
    `web_only` (`outreach serve --web-only`): webhook messages are stored and answered, and handled by
    `outreach work` processes (background_app), which do the background work too; this process only
    applies its own spool after an outage. `api_clock` times the API's rate limits (tests move it)."""
    timing = webhook_timing(services)
    guard = json_body_guard([API_PREFIX + "/", webhook_paths.TELEGRAM], streamed=[API_PREFIX + IMPORTS_PATH])
    app = web.Application(middlewares=[timing, guard] if timing else [guard])
    app[SERVICES] = services
    app.router.add_get("/healthz", healthz)
    add_metrics_route(app)
    app.router.add_post(webhook_paths.SANDBOX, handler_with_services(webhooks.sandbox_webhook))
    app.router.add_post(webhook_paths.TWILIO_INBOUND, handler_with_services(webhooks.twilio_inbound_webhook))
    app.router.add_post(webhook_paths.TWILIO_STATUS, handler_with_services(webhooks.twilio_status_webhook))
    app.router.add_post(webhook_paths.TELEGRAM, handler_with_services(webhooks.telegram_webhook))
    for method in ("GET", "POST"):
        app.router.add_route(method, webhook_paths.ANSWER_LINK, handler_with_services(email_links.answer_page))
        app.router.add_route(
            method, webhook_paths.UNSUBSCRIBE_LINK, handler_with_services(email_links.unsubscribe_page)
        )
    app.router.add_get("/privacy", handler_with_services(privacy_notice.privacy_page))
    app.router.add_get("/privacy/{language}", handler_with_services(privacy_notice.privacy_page))
    add_api_routes(app, clock=api_clock)
    add_admin_pages(app)
    app.cleanup_ctx.append(_channels_open)
    app.cleanup_ctx.append(import_jobs_running)  # the API's import jobs run wherever it is served
    if web_only:
        app.cleanup_ctx.append(_spool_flushing)  # the spool is this host's disk, written by this process
        return app
    app.cleanup_ctx.append(_inbound_queue_worked)  # stored webhook messages are handled where they came
    if run_background:
        app.cleanup_ctx.extend([_telegram_updates, _mailbox_polled, _dispatcher_running, _webhooks_delivered])
        app.cleanup_ctx.extend([_spool_flushing, _scheduler_running])
    return app


def background_app(services: Services) -> web.Application:
    """`outreach work`: what `serve` runs beside its HTTP, without its webhooks, API and pages (RapidPro's
    mailroom beside its courier): the webhook messages every `--web-only` process stored, handled; the
    dispatcher, the outgoing webhooks, the lifecycle scheduler, the mailbox and Telegram polling. Only
    /healthz and /metrics are routed, served where `outreach work --port` says (else nowhere: an
    AppRunner with no site still runs these jobs exactly as `serve` does)."""
    app = web.Application()
    app[SERVICES] = services
    app.router.add_get("/healthz", healthz)
    add_metrics_route(app)  # this process's sends, errors and rate-limit waits are counted here only
    app[INBOUND_SWEEP_SECONDS] = min(WORK_SWEEP_SECONDS, services.settings.inbound_sweep_seconds)
    app.cleanup_ctx.extend([_channels_open, _inbound_queue_worked, _telegram_updates, _mailbox_polled])
    app.cleanup_ctx.extend([_dispatcher_running, _webhooks_delivered, _scheduler_running])
    return app


async def _scheduler_running(app: web.Application) -> AsyncIterator[None]:
    services = app[SERVICES]
    scheduler = lifecycle_scheduler(services.lifecycle, interval_seconds=services.settings.lifecycle_interval_seconds)
    retention = Retention(services.sessions, services.settings, clock=services.clock, telemetry=services.telemetry)
    add_retention_job(scheduler, retention)
    report_store_errors(scheduler, services.telemetry)
    app[SCHEDULER] = scheduler
    running = RunningJobs(scheduler)
    scheduler.start()
    yield
    scheduler.pause()  # nothing new starts; what runs ends while the services are still open
    await running.finish()
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


async def _webhooks_delivered(app: web.Application) -> AsyncIterator[None]:
    """Outgoing webhooks: events fanned out and posted; posts in flight finish on stop."""
    services = app[SERVICES]
    stopping = asyncio.Event()
    task = asyncio.create_task(services.webhooks.run(stopping), name="webhooks")
    yield
    stopping.set()
    await task


async def _inbound_queue_worked(app: web.Application) -> AsyncIterator[None]:
    """Webhook messages stored before their handling, handled by this process's workers; on stop, what
    is in hand is finished or handed back."""
    services = app[SERVICES]
    sweep_every = app.get(INBOUND_SWEEP_SECONDS, services.settings.inbound_sweep_seconds)
    async with services.inbound_queue.running(sweep_every=sweep_every):
        yield


async def _spool_flushing(app: web.Application) -> AsyncIterator[None]:
    """Webhook input kept on disk through an outage, applied once the store is back."""
    services = app[SERVICES]
    flusher = SpoolFlusher(services.spool, services, max_pause=services.settings.spool_retry_max_seconds)
    stopping = asyncio.Event()
    task = asyncio.create_task(flusher.run(stopping), name="spool-flusher")
    yield
    stopping.set()
    task.cancel()  # an item cut off mid-way stays on disk and is applied by the next round (a duplicate)
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _channels_open(app: web.Application) -> AsyncIterator[None]:
    await app[SERVICES].start_channels()
    yield
    # Closed with the services (Services.close), after the dispatcher finished its sends.


async def _telegram_updates(app: web.Application) -> AsyncIterator[None]:
    """Webhook mode: tell Telegram where to post. Polling mode: poll beside the web app."""
    services = app[SERVICES]
    channel = services.channels.get("telegram")
    if not isinstance(channel, TelegramChannel):
        yield
        return
    if services.settings.telegram_mode == "webhook":
        await register_webhook(services, channel)
        yield
        return
    stopping = asyncio.Event()
    task = asyncio.create_task(
        run_as_singleton(
            "telegram-polling",
            functools.partial(poll, services, channel),
            sessions=services.sessions,
            clock=services.clock,
            stopping=stopping,
        )
    )
    yield
    stopping.set()
    await task


async def _mailbox_polled(app: web.Application) -> AsyncIterator[None]:
    async with polling_mailbox(app[SERVICES]):
        yield
