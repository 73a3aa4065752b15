"""Time comes from an injected clock, so tests and the demo never wait for the wall clock."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def stopped_clock(at: datetime) -> Clock:
    """A clock that always says `at`: a message handled later (kept through an outage, or queued) is
    handled as of when it arrived."""
    return functools.partial(_always, at)


def _always(at: datetime) -> datetime:
    return at


class AcceleratedClock:
    """Simulated time that stands at `start` until `run()`, then moves `speed` times faster than
    the wall clock: the demo shows a night, reminders and expiry within a minute with the same code
    paths a real deployment runs (they all read the injected clock)."""

    def __init__(self, start: datetime, speed: float, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._start = start
        self._speed = speed
        self._monotonic = monotonic
        self._origin: float | None = None

    def run(self) -> None:
        self._origin = self._monotonic()

    def __call__(self) -> datetime:
        if self._origin is None:
            return self._start
        return self._start + timedelta(seconds=(self._monotonic() - self._origin) * self._speed)
