"""GET /metrics for Prometheus, and the timing of provider webhooks it reports.

A scrape is served to a holder of OUTREACH_METRICS_TOKEN (as a bearer token) or to an address in
OUTREACH_METRICS_ALLOW that did not come through a proxy; anyone else gets 403 (docs/SECURITY.md).
It holds the database's gauges read at this scrape (outreach.web.store_gauges), then this process's
counters (outreach.web.prometheus_telemetry) where `serve` counts them. prometheus_client itself is
loaded at the first scrape (or when `serve` makes its telemetry), never by importing these modules: the
command line imports them all, and `outreach --help` must not pay for it."""

from __future__ import annotations

import hmac
import time
from collections.abc import Iterable, Iterator
from ipaddress import ip_address
from typing import TYPE_CHECKING

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from channels import webhook_paths
from outreach.bootstrap import Services
from outreach.settings import Settings
from outreach.web.keys import SERVICES
from outreach.web.prometheus_telemetry import PrometheusTelemetry
from outreach.web.store_gauges import StoreGauges, read_store

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric
    from prometheus_client.registry import Collector

PATH = "/metrics"
# The webhook routes timed, by the name they carry in the metrics (route templates, never a path: an
# answer link's path holds its token).
WEBHOOKS = {
    webhook_paths.TWILIO_INBOUND: "twilio_sms",
    webhook_paths.TWILIO_STATUS: "twilio_status",
    webhook_paths.TELEGRAM: "telegram",
    webhook_paths.SANDBOX: "sandbox",
}
FORWARDING_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")


class Scrape:
    """The collectors of one scrape, read one after the other."""

    def __init__(self, parts: Iterable[Collector]) -> None:
        self._parts = list(parts)

    def collect(self) -> Iterator[Metric]:
        for part in self._parts:
            yield from part.collect()


def scrape_allowed(request: web.Request, settings: Settings) -> bool:
    if settings.metrics_token is not None:
        expected = f"Bearer {settings.metrics_token.get_secret_value()}".encode()
        if hmac.compare_digest(request.headers.get("Authorization", "").encode(), expected):
            return True
    if any(header in request.headers for header in FORWARDING_HEADERS) or request.remote is None:
        return False  # through a proxy, the address seen is the proxy's own
    try:
        peer = ip_address(request.remote)
    except ValueError:
        return False  # a Unix socket: no address to check
    return any(peer in network for network in settings.metrics_allow)


async def metrics(request: web.Request) -> web.Response:
    from prometheus_client.exposition import choose_encoder

    services = request.app[SERVICES]
    if not scrape_allowed(request, services.settings):
        raise web.HTTPForbidden(text="metrics: scrape with the metrics token, or from an allowed address\n")
    reading = await read_store(services.sessions, services.clock())
    parts: list[Collector] = [StoreGauges(reading, services.channels)]
    if isinstance(services.telemetry, PrometheusTelemetry):
        parts.append(services.telemetry.registry)
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    return web.Response(body=encode(Scrape(parts)), headers={"Content-Type": content_type})


def webhook_timing(services: Services) -> Middleware | None:
    """Time each provider webhook from its arrival to its answer; None when this process counts
    nothing (no Prometheus telemetry)."""
    telemetry = services.telemetry
    if not isinstance(telemetry, PrometheusTelemetry):
        return None

    @web.middleware
    async def timed(request: web.Request, handler: Handler) -> web.StreamResponse:
        resource = request.match_info.route.resource
        name = WEBHOOKS.get(resource.canonical) if resource is not None else None
        if name is None:
            return await handler(request)
        started = time.perf_counter()
        code = 500
        try:
            response = await handler(request)
            code = response.status
            return response
        except web.HTTPException as error:
            code = error.status
            raise
        finally:
            telemetry.webhook_seconds.labels(name).observe(time.perf_counter() - started)
            telemetry.webhook_responses.labels(name, str(code)).inc()

    return timed


def add_metrics_route(app: web.Application) -> None:
    app.router.add_get(PATH, metrics)
