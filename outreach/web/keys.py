"""The web app's typed keys (aiohttp `AppKey`s), and the adaptor that hands a handler the services.

Kept apart from `outreach.web.app` so that the API package, which the app mounts, can read them
without importing the app."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from outreach.bootstrap import Services

SERVICES = web.AppKey("services", Services)
DISPATCHER_TASK = web.AppKey("dispatcher_task", asyncio.Task[None])
SCHEDULER = web.AppKey("scheduler", AsyncIOScheduler)
INBOUND_SWEEP_SECONDS = web.AppKey("inbound_sweep_seconds", float)  # `outreach work`'s, shorter than serve's


def handler_with_services(
    handler: Callable[[web.Request, Services], Awaitable[web.StreamResponse]],
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """An aiohttp handler that calls `handler(request, services)`."""

    async def handle(request: web.Request) -> web.StreamResponse:
        return await handler(request, request.config_dict[SERVICES])

    return handle
