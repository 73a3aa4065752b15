"""The webhook worker: fans events out to their subscribers and posts each delivery, signed.

Runs in every `serve` and `dispatch` process; the rows coordinate them (storage.webhook_deliveries):
a delivery is claimed under a lease, posted, and recorded as delivered (any 2xx) or failed (anything
else, a redirect included: it is never followed, it could lead anywhere). A failed attempt is tried
again after the backoff doubles, up to the attempt limit; a subscriber failing too many times in a
row is paused with the reason. Signatures carry wall time (receivers compare it with their clocks);
the schedule runs on the injected clock.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

import aiohttp
from aiohttp.abc import AbstractResolver

from outreach.campaigns.parsed_flows import CampaignDefinitions
from outreach.clock import Clock, system_clock
from outreach.outbound.lanes import first_of
from outreach.settings import Settings
from outreach.store_errors import StoreErrors
from outreach.webhooks_out.addresses import check_url, guarded_connector
from outreach.webhooks_out.payloads import event_payload
from outreach.webhooks_out.signing import signed_headers
from storage.db import STORE_UNAVAILABLE, SessionFactory
from storage.webhook_deliveries import ClaimedDelivery, DeliveryRepository
from storage.webhook_subscribers import SubscriberRepository

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=6)
BATCH = 50
POSTS_AT_ONCE = 10


class Outcome(NamedTuple):
    """What one post came to: the HTTP status when there was one, the error when it failed."""

    delivery: ClaimedDelivery
    status: int | None
    error: str | None


def body_of(payload: dict[str, object]) -> bytes:
    """The exact bytes posted and signed: compact JSON, UTF-8."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def retry_delay(settings: Settings, attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: the backoff doubled each time, at most 6 h."""
    seconds = settings.webhooks_backoff_seconds * 2 ** min(attempts - 1, 30)
    return min(timedelta(seconds=seconds), MAX_BACKOFF)


class WebhookDeliverer:
    def __init__(
        self,
        sessions: SessionFactory,
        settings: Settings,
        definitions: CampaignDefinitions,
        *,
        worker_id: str,
        clock: Clock = system_clock,
        wall_clock: Callable[[], float] = time.time,
        resolver: AbstractResolver | None = None,
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._definitions = definitions
        self._worker = worker_id
        self._clock = clock
        self._wall_clock = wall_clock
        self._resolver = resolver  # the DNS beneath the public-address check (tests answer without network)
        self._http: aiohttp.ClientSession | None = None
        self._store_errors = StoreErrors("webhooks")

    @property
    def lease(self) -> timedelta:
        """Longer than any post may take: a claim outlives its post unless its worker died."""
        return timedelta(seconds=max(60.0, 3 * self._settings.webhooks_timeout_seconds))

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            connector = guarded_connector(allow_private=self._settings.webhooks_allow_private, resolver=self._resolver)
            timeout = aiohttp.ClientTimeout(total=self._settings.webhooks_timeout_seconds)
            self._http = aiohttp.ClientSession(connector=connector, timeout=timeout)
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def run(self, stopping: asyncio.Event) -> None:
        """Fan out and deliver until `stopping`; posts in flight finish and are recorded."""
        poll = self._settings.webhooks_poll_seconds
        try:
            while not stopping.is_set():
                try:
                    handled = await self.round()
                except STORE_UNAVAILABLE as error:
                    await first_of([stopping], self._store_errors.pause_after(error, poll))
                    continue
                self._store_errors.answered()
                if handled == 0:
                    await first_of([stopping], poll)
        finally:
            await self.close()

    async def drain(self) -> int:
        """Rounds until nothing is due now; the deliveries attempted."""
        total = 0
        while handled := await self.round():
            total += handled
        return total

    async def round(self) -> int:
        """Fan out waiting events, then claim and post what is due, and record the round's outcomes in
        one transaction (a crash before it posts them again: at least once); the events and deliveries
        handled."""
        fanned = await self.fan_out()
        now = self._clock()
        async with self._sessions() as session, session.begin():
            claimed = await DeliveryRepository(session).claim(self._worker, now=now, lease=self.lease, limit=BATCH)
        limit = asyncio.Semaphore(POSTS_AT_ONCE)

        async def post(delivery: ClaimedDelivery) -> Outcome:
            async with limit:
                return await self._deliver(delivery)

        outcomes = await asyncio.gather(*(post(delivery) for delivery in claimed))
        if outcomes:
            await self._record(outcomes)
        return fanned + len(claimed)

    async def fan_out(self) -> int:
        async with self._sessions() as session, session.begin():
            deliveries = DeliveryRepository(session)
            events = await deliveries.unfanned_events(BATCH)
            payloads = {}
            for event in events:
                assert event.id is not None
                payloads[event.id] = await event_payload(
                    session, event, settings=self._settings, definitions=self._definitions
                )
            await deliveries.fan_out(payloads, now=self._clock())
        return len(events)

    async def _deliver(self, delivery: ClaimedDelivery) -> Outcome:
        status: int | None = None
        error: str | None = None
        try:
            body = body_of(delivery.payload)
            headers = signed_headers(delivery.secrets, delivery.message_id, int(self._wall_clock()), body)
            check_url(delivery.url, allow_http=self._settings.webhooks_allow_http)  # settings may have changed
            async with self._session().post(delivery.url, data=body, headers=headers, allow_redirects=False) as answer:
                status = answer.status
                await answer.read()
            if not 200 <= status < 300:
                error = f"answered HTTP {status}"
        except (aiohttp.ClientError, OSError, TimeoutError) as failure:
            error = f"{type(failure).__name__}: {failure}" if str(failure) else type(failure).__name__
        except Exception as failure:  # a defect of ours: this delivery fails, visibly, and the worker goes on
            log.exception("webhooks: delivery %s could not be posted", delivery.id)
            error = f"internal error ({type(failure).__name__})"
        return Outcome(delivery, status, error)

    async def _record(self, outcomes: Sequence[Outcome]) -> None:
        now: datetime = self._clock()
        failed: list[tuple[Outcome, bool, bool]] = []  # (outcome, given up, paused the subscriber)
        async with self._sessions() as session, session.begin():
            deliveries, subscribers = DeliveryRepository(session), SubscriberRepository(session)
            succeeded: dict[int, list[int]] = {}  # by HTTP status: one statement each
            for delivery, status, error in outcomes:
                if error is None and status is not None:
                    succeeded.setdefault(status, []).append(delivery.id)
            for status, ids in succeeded.items():
                reached = await deliveries.delivered(ids, self._worker, status_code=status, now=now)
                await subscribers.succeeded(reached)
            for outcome in outcomes:
                delivery, status, error = outcome
                if error is None:
                    continue
                last = delivery.attempts >= self._settings.webhooks_max_attempts
                retry_at = None if last else now + retry_delay(self._settings, delivery.attempts)
                if not await deliveries.attempt_failed(
                    delivery.id, self._worker, status_code=status, error=error, retry_at=retry_at
                ):
                    continue  # the lease ran out and another worker has it
                paused = await subscribers.failed(
                    delivery.subscriber_id, reason=error, pause_after=self._settings.webhooks_pause_after
                )
                failed.append((outcome, last, paused))
        for (delivery, _, error), last, paused in failed:
            log.warning(
                "webhooks: delivery %s to subscriber %s failed (attempt %s%s): %s",
                delivery.id,
                delivery.subscriber_id,
                delivery.attempts,
                ", given up" if last else "",
                error,
            )
            if paused:
                log.warning("webhooks: subscriber %s paused after failing again and again", delivery.subscriber_id)
