"""How a dispatcher sends: its pools, claims, retries, leases and limits (outreach.outbound.dispatcher)."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

MIN_POOL = 4


def pool_for_rate(per_second: float, latency_seconds: float) -> int:
    """Sends in flight a channel needs to reach `per_second` when the provider answers in `latency_seconds`:
    rate × latency, doubled because a slot also covers the send's database writes and a chat's own wait
    for its per-chat limit (docs/BENCHMARKS.md)."""
    return max(MIN_POOL, math.ceil(2 * per_second * latency_seconds))


@dataclass(frozen=True)
class DispatchPolicy:
    concurrency: int = 8  # sends in flight per channel, for a channel `channel_concurrency` does not name
    batch_size: int = 50  # a channel holds at most this many claimed rows; it claims again below half
    max_attempts: int = 5
    backoff_seconds: float = 30.0
    quiet_spread: timedelta = timedelta(minutes=60)
    lease_seconds: float = 300.0  # a claim older than this belongs to a worker that died
    daily_cap: int = 10  # campaign messages per address per 24 h
    sms_prices: Mapping[str, float] = field(default_factory=dict)  # per segment, by number prefix
    channel_concurrency: Mapping[str, int] = field(default_factory=dict)  # sends in flight, by channel
    # How late for its limiter slot a send may go, once its start is recorded. The limiter keeps 98% of
    # a limit, and arrivals jittering by under 2% of a second still fit any one-second window; its own
    # wake-up takes up to 10 ms of that. Later than this, the send takes a fresh slot.
    slot_tolerance: float = 0.010
    # How long before its slot a send's start is recorded (a write transaction: a few milliseconds, more
    # while other writers hold SQLite's lock), so the request still leaves at the slot. A crash in
    # between leaves a send of unknown outcome that never left: reconciliation finds it unseen.
    start_lead: float = 0.030
    reconcile_seconds: float = 60.0  # how often a running dispatcher reconciles sends of unknown outcome
    # How long a send of unknown outcome may wait for a provider that cannot say yet (its list lags, or
    # does not answer) before the campaign's on_unknown policy decides.
    unknown_patience: timedelta = timedelta(hours=1)

    def pool_size(self, channel: str | None) -> int:
        size = self.channel_concurrency.get(channel, self.concurrency) if channel else self.concurrency
        return max(1, size)

    @property
    def low_water(self) -> int:
        """A lane claims again when fewer of its claimed messages than this are unfinished."""
        return max(1, self.batch_size // 2)

    def backoff(self, attempts: int, retry_after: float | None, jitter: random.Random) -> float:
        """A retry's wait: exponential with jitter, never shorter than what the provider asked for."""
        exponential = self.backoff_seconds * 2.0 ** (attempts - 1)
        jittered = exponential * (0.5 + jitter.random() / 2)
        return max(jittered, retry_after or 0.0)
