"""The versioned REST API as an aiohttp sub-application under /api/v1: its routes, its JSON error
handling and its rate limit. Kept out of the package's __init__ so that importing one of the API's
modules (say `outreach token`'s auth) does not load aiohttp and every route."""

from __future__ import annotations

import time
from collections.abc import Callable

from aiohttp import web

from outreach.web.api.auth import RateLimiter
from outreach.web.api.errors import json_errors
from outreach.web.api.openapi import REFERENCE_ROUTES, ROUTE_TABLE
from outreach.web.api.registry import API_PREFIX, RATE_LIMITER, ApiRoute, add_routes
from outreach.web.api.routes import ROUTES

API_ROUTES: list[ApiRoute] = [*ROUTES, *REFERENCE_ROUTES]


def api_application(*, clock: Callable[[], float] = time.monotonic) -> web.Application:
    """The API as a sub-application (its own JSON error handling); `clock` drives the rate limit."""
    api = web.Application(middlewares=[json_errors])
    api[ROUTE_TABLE] = API_ROUTES
    api[RATE_LIMITER] = RateLimiter(clock)
    add_routes(api, API_ROUTES)
    return api


def add_api_routes(app: web.Application, *, clock: Callable[[], float] = time.monotonic) -> None:
    """Mount the API under /api/v1 on `app` (call before the app starts)."""
    app.add_subapp(API_PREFIX, api_application(clock=clock))


__all__ = ["API_PREFIX", "API_ROUTES", "add_api_routes", "api_application"]
