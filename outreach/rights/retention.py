"""Retention: what is kept only so long is removed once due, a bounded batch per transaction, and
counted in the log and in /metrics (`outreach_retention_removed_total`). `serve` runs it daily (one
worker a day, under a lease); `outreach retention run [--dry-run]` at will. What each kind is:
storage.retention; how long: the RETENTION_* settings (docs/PRIVACY.md)."""

from __future__ import annotations

import logging
import os
import socket
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from outreach import audit
from outreach.audit import Actor
from outreach.clock import Clock
from outreach.rights.raw_text import scrub_raw_text
from outreach.rights.requests import ResidentRequests
from outreach.settings import Settings
from outreach.telemetry import NO_TELEMETRY, Telemetry
from storage.db import SessionFactory, read_session
from storage.leases import hold_lease
from storage.retention import Kind, count_due, due_keys, remove

if TYPE_CHECKING:  # `outreach retention run` schedules nothing: it need not load APScheduler
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger(__name__)

RETENTION_JOB = "retention"
SCHEDULED = Actor("service", "retention", "the daily retention job of serve")
LEASE = "retention"
# The first run waits a little after start-up, so a restart loop never runs it over and over.
FIRST_RUN_AFTER = timedelta(minutes=5)
# A day's run is taken by one worker: the lease outlives the run and lapses before the next day's.
LEASE_TTL = timedelta(hours=23)
# Inactive residents are erased one by one, this many per transaction (an erasure touches many rows).
RESIDENTS_PER_TRANSACTION = 50
DAYS_PER_MONTH = 30.4375  # a month of the inactive residents' setting, on average


def cut_offs(settings: Settings, now: datetime) -> dict[Kind, datetime]:
    """Each kind's cut-off (what is older is due); a kind kept forever (0) is absent."""
    ages = {
        Kind.INBOUND: timedelta(days=settings.retention_inbound_days) if settings.retention_inbound_days else None,
        Kind.UNKNOWN_SENDERS: timedelta(days=settings.retention_unknown_sender_days)
        if settings.retention_unknown_sender_days
        else None,
        Kind.OUTBOX: timedelta(days=settings.retention_outbox_days) if settings.retention_outbox_days else None,
        Kind.EARLY_REPORTS: timedelta(days=settings.retention_early_reports_days)
        if settings.retention_early_reports_days
        else None,
        Kind.WEBHOOKS_DELIVERED: timedelta(days=settings.retention_webhooks_delivered_days)
        if settings.retention_webhooks_delivered_days
        else None,
        Kind.WEBHOOKS_FAILED: timedelta(days=settings.retention_webhooks_failed_days)
        if settings.retention_webhooks_failed_days
        else None,
    }
    due = {kind: now - age for kind, age in ages.items() if age is not None}
    if settings.retention_raw_text_days:
        due[Kind.RAW_TEXT] = now - timedelta(days=settings.retention_raw_text_days)
    if settings.retention_inactive_months:
        due[Kind.INACTIVE] = now - timedelta(days=round(settings.retention_inactive_months * DAYS_PER_MONTH))
    return due


class Retention:
    def __init__(
        self,
        sessions: SessionFactory,
        settings: Settings,
        *,
        clock: Clock,
        telemetry: Telemetry = NO_TELEMETRY,
    ) -> None:
        self._sessions, self._settings, self._clock, self._telemetry = sessions, settings, clock, telemetry
        self._requests = ResidentRequests(sessions, settings, clock=clock)

    async def run(self, *, actor: Actor, dry_run: bool = False) -> dict[Kind, int]:
        """Remove everything due (or, with `dry_run`, count it): the count per kind. A run that removes
        is recorded in the audit log, with its counts, under `actor`."""
        counts: dict[Kind, int] = {}
        for kind, before in cut_offs(self._settings, self._clock()).items():
            if kind is Kind.RAW_TEXT:
                batch = self._settings.retention_batch_size
                counts[kind] = await scrub_raw_text(
                    self._sessions, before, now=self._clock(), batch=batch, dry_run=dry_run
                )
                if not dry_run:
                    self._telemetry.retention_removed(kind.value, counts[kind])
                continue
            if dry_run:
                async with read_session(self._sessions) as session:
                    counts[kind] = await count_due(session, kind, before)
                continue
            counts[kind] = await self._remove_all(kind, before)
            self._telemetry.retention_removed(kind.value, counts[kind])
        log.info(
            "retention%s: %s",
            " (dry run, nothing removed)" if dry_run else "",
            ", ".join(f"{kind.value} {count}" for kind, count in counts.items()) or "every kind is kept forever",
        )
        if not dry_run:
            details: dict[str, audit.DetailValue] = {kind.value: count for kind, count in counts.items()}
            await audit.record_apart(self._sessions, actor, audit.RETENTION_RUN, details=details, at=self._clock())
        return counts

    async def _remove_all(self, kind: Kind, before: datetime) -> int:
        batch = RESIDENTS_PER_TRANSACTION if kind is Kind.INACTIVE else self._settings.retention_batch_size
        removed = 0
        while True:
            async with self._sessions() as session, session.begin():
                keys = await due_keys(session, kind, before, batch)
                if kind is Kind.INACTIVE:
                    for resident_id in keys:
                        await self._requests.erase_in(session, resident_id)
                else:
                    await remove(session, kind, keys)
            removed += len(keys)
            if len(keys) < batch:
                return removed

    async def run_daily(self, holder: str) -> None:
        """The scheduled run: by the worker that takes the day's lease, the others stand aside."""
        async with self._sessions() as session, session.begin():
            taken = await hold_lease(session, LEASE, holder=holder, now=self._clock(), ttl=LEASE_TTL)
        if taken:
            await self.run(actor=SCHEDULED)


def add_retention_job(scheduler: AsyncIOScheduler, retention: Retention) -> None:
    """Run retention daily in this process's scheduler; of several workers, the lease picks one a day."""
    holder = f"{socket.gethostname()}:{os.getpid()}"[:64]
    scheduler.add_job(
        retention.run_daily,
        "interval",
        hours=24,
        args=[holder],
        id=RETENTION_JOB,
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now(UTC) + FIRST_RUN_AFTER,
    )
