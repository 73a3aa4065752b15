"""The gauges /metrics reads from the database at each scrape: the outbox's depth by status and
channel, what is due and how long the oldest due message has waited, each live campaign's launch, and
the webhook messages stored and not yet handled.
Every worker reads the same rows, so whichever is scraped reports the whole service, not itself."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from storage import inbound_queue
from storage.db import STORE_UNAVAILABLE, SessionFactory, read_session
from storage.gauges import (
    PENDING_STATUSES,
    DueMessages,
    LaunchFigures,
    OutboxDepth,
    due_messages,
    launch_figures,
    outbox_depth,
)

if TYPE_CHECKING:
    from prometheus_client.core import Metric


@dataclass(frozen=True)
class StoreReading:
    now: datetime
    reachable: bool
    depth: list[OutboxDepth] = field(default_factory=list)
    due: list[DueMessages] = field(default_factory=list)
    launches: list[LaunchFigures] = field(default_factory=list)
    inbound_queued: int = 0  # webhook messages stored and not yet handled, by every worker


async def read_store(sessions: SessionFactory, now: datetime) -> StoreReading:
    """One reading for one scrape; a database that does not answer is a reading that says so (the
    scrape still serves the process's counters)."""
    try:
        async with read_session(sessions) as session:
            return StoreReading(
                now=now,
                reachable=True,
                depth=await outbox_depth(session),
                due=await due_messages(session, now),
                launches=await launch_figures(session),
                inbound_queued=await inbound_queue.waiting(session),
            )
    except STORE_UNAVAILABLE:
        return StoreReading(now=now, reachable=False)


class StoreGauges:
    """A prometheus_client collector of one reading. `channels`: the channels served here, each
    reported even at zero, so an emptied queue shows as 0 rather than as a series that vanished."""

    def __init__(self, reading: StoreReading, channels: Collection[str]) -> None:
        self._reading = reading
        self._channels = sorted(channels)

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.core import GaugeMetricFamily  # only when scraped: see outreach.web.metrics

        reading = self._reading
        up = GaugeMetricFamily("outreach_store_up", "1 when the database answered this scrape's reads.")
        up.add_metric([], 1.0 if reading.reachable else 0.0)
        yield up
        if not reading.reachable:
            return
        yield self._depth()
        queued = GaugeMetricFamily(
            "outreach_inbound_queued",
            "Webhook messages stored and answered but not handled yet, by every worker (outreach.inbound.queue).",
        )
        queued.add_metric([], float(reading.inbound_queued))
        yield queued
        yield from self._due()
        yield from self._launches()

    def _depth(self) -> Metric:
        from prometheus_client.core import GaugeMetricFamily

        depth = GaugeMetricFamily(
            "outreach_outbox_depth",
            "Outbox messages not settled yet, by channel and status (queued, held, sending, unknown).",
            labels=["channel", "status"],
        )
        counts = {(row.channel, row.status): row.messages for row in self._reading.depth}
        for channel in sorted(set(self._channels) | {channel for channel, _ in counts}):
            for status in PENDING_STATUSES:
                depth.add_metric([channel, status], float(counts.get((channel, status), 0)))
        return depth

    def _due(self) -> Iterator[Metric]:
        from prometheus_client.core import GaugeMetricFamily

        due = GaugeMetricFamily("outreach_outbox_due", "Queued messages due by now, by channel.", labels=["channel"])
        oldest = GaugeMetricFamily(
            "outreach_outbox_oldest_due_seconds",
            "How long the longest-waiting due message has been due, by channel (0: none due).",
            labels=["channel"],
        )
        rows = {row.channel: row for row in self._reading.due}
        for channel in sorted(set(self._channels) | set(rows)):
            row = rows.get(channel)
            due.add_metric([channel], float(row.messages if row else 0))
            waited = (self._reading.now - row.oldest).total_seconds() if row and row.oldest else 0.0
            oldest.add_metric([channel], max(0.0, waited))
        yield due
        yield oldest

    def _launches(self) -> Iterator[Metric]:
        from prometheus_client.core import GaugeMetricFamily

        opening = GaugeMetricFamily(
            "outreach_launch_opening",
            "1 while a campaign's launch is still opening conversations.",
            labels=["campaign"],
        )
        opened = GaugeMetricFamily(
            "outreach_launch_conversations", "Conversations a live campaign's launch opened.", labels=["campaign"]
        )
        skipped = GaugeMetricFamily(
            "outreach_launch_skipped", "Residents a live campaign's launch had to skip.", labels=["campaign"]
        )
        to_go = GaugeMetricFamily(
            "outreach_launch_register_to_go",
            "Residents of the register a live campaign's launch has still to go through (those past its"
            " cursor, of whom it asks its audience; 0 once opened): with conversations and skipped, its progress.",
            labels=["campaign"],
        )
        for launch in self._reading.launches:
            opening.add_metric([launch.campaign], 1.0 if launch.opening else 0.0)
            opened.add_metric([launch.campaign], float(launch.opened))
            skipped.add_metric([launch.campaign], float(launch.skipped))
            to_go.add_metric([launch.campaign], float(launch.to_go))
        yield opening
        yield opened
        yield skipped
        yield to_go
