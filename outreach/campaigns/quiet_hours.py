"""Quiet hours: no campaign message reaches a resident at night, in the resident's own time zone.

Messages that fall inside the window wait for its end and are then released over a spread (not all
at 08:00:00): each message gets a stable offset derived from its idempotency key, so a retry lands
on the same moment and the release order is fair.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIMEZONE = "Europe/Warsaw"
_WINDOW = re.compile(r"(\d\d:\d\d)\s*-\s*(\d\d:\d\d)")


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time

    @classmethod
    def parse(cls, window: str) -> QuietHours:
        """ "21:00-08:00" → QuietHours(21:00, 08:00); a window may cross midnight."""
        match = _WINDOW.fullmatch(window.strip())
        try:
            if match is None:
                raise ValueError
            start, end = time.fromisoformat(match[1]), time.fromisoformat(match[2])
        except ValueError:
            raise ValueError(f"quiet hours '{window}' are not HH:MM-HH:MM") from None
        if start == end:
            raise ValueError(f"quiet hours '{window}' start and end at the same time")
        return cls(start, end)

    @property
    def crosses_midnight(self) -> bool:
        return self.start > self.end

    def contains(self, moment: time) -> bool:
        if self.crosses_midnight:
            return moment >= self.start or moment < self.end
        return self.start <= moment < self.end

    def end_after(self, local: datetime) -> datetime:
        """The end of the window that `local` (inside it) belongs to, as a local wall-clock time."""
        day: date = local.date()
        if self.crosses_midnight and local.time() >= self.start:
            day += timedelta(days=1)
        return datetime.combine(day, self.end, tzinfo=local.tzinfo)


def resident_zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def spread_offset(key: str, spread: timedelta) -> timedelta:
    digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
    return timedelta(seconds=digest % max(int(spread.total_seconds()), 1))


def release_time(now: datetime, window: QuietHours | None, zone: ZoneInfo, *, key: str, spread: timedelta) -> datetime:
    """When a message queued at `now` may be sent: now, or after the quiet window it falls into."""
    end = window_end(now, window, zone)
    return now if end is None else end + spread_offset(key, spread)


def window_end(now: datetime, window: QuietHours | None, zone: ZoneInfo) -> datetime | None:
    """The end (in UTC) of the quiet window `now` falls into in `zone`; None when it falls into none.
    The same for every message of a zone queued at that moment (a launch works it out once per zone);
    each message then adds its own spread."""
    if window is None:
        return None
    local = now.astimezone(zone)
    if not window.contains(local.time()):
        return None
    # Wall-clock arithmetic in the zone, then to UTC: 08:00 stays 08:00 across a DST change.
    return window.end_after(local).astimezone(UTC)
