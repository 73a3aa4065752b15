from __future__ import annotations

from datetime import UTC, datetime, timedelta

from outreach.clock import AcceleratedClock, system_clock


def test_accelerated_clock_stands_until_run_then_moves_at_its_speed() -> None:
    ticks = iter([100.0, 100.0, 101.5, 103.0])
    start = datetime(2027, 3, 2, 20, 30, tzinfo=UTC)
    clock = AcceleratedClock(start, 3600, monotonic=lambda: next(ticks))
    assert clock() == start  # not running yet: no tick read
    clock.run()  # origin at 100.0
    assert clock() == start
    assert clock() == start + timedelta(hours=1.5)
    assert clock() == start + timedelta(hours=3)


def test_system_clock_is_aware_utc() -> None:
    assert system_clock().tzinfo is UTC
