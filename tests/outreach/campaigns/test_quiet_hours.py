"""Quiet hours in the resident's zone, across midnight and across DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from outreach.campaigns.quiet_hours import QuietHours, release_time, resident_zone, spread_offset

WARSAW = ZoneInfo("Europe/Warsaw")
NIGHT = QuietHours.parse("21:00-08:00")
NO_SPREAD = timedelta(0)
LUNCH = QuietHours.parse("13:00-14:30")


def local(text: str, zone: ZoneInfo = WARSAW) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone)


@pytest.mark.parametrize(
    ("label", "window", "now", "expected"),
    [
        ("afternoon: at once", NIGHT, local("2027-03-02T15:00"), local("2027-03-02T15:00")),
        ("last minute before", NIGHT, local("2027-03-02T20:59:59"), local("2027-03-02T20:59:59")),
        ("window opens", NIGHT, local("2027-03-02T21:00"), local("2027-03-03T08:00")),
        ("late evening: next morning", NIGHT, local("2027-03-02T23:30"), local("2027-03-03T08:00")),
        ("after midnight: same morning", NIGHT, local("2027-03-03T03:00"), local("2027-03-03T08:00")),
        ("window closes", NIGHT, local("2027-03-03T08:00"), local("2027-03-03T08:00")),
        # 2027-03-28: clocks go 02:00 → 03:00 in Warsaw; the night is an hour shorter.
        ("spring forward", NIGHT, local("2027-03-27T22:00"), local("2027-03-28T08:00")),
        # 2027-10-31: clocks go 03:00 → 02:00; the night is an hour longer.
        ("fall back", NIGHT, local("2027-10-30T22:00"), local("2027-10-31T08:00")),
        (
            "daytime window",
            QuietHours.parse("13:00-14:30"),
            local("2027-03-02T13:10"),
            local("2027-03-02T14:30"),
        ),
        (
            "daytime window, outside",
            QuietHours.parse("13:00-14:30"),
            local("2027-03-02T12:59"),
            local("2027-03-02T12:59"),
        ),
        ("turned off", None, local("2027-03-02T23:30"), local("2027-03-02T23:30")),
    ],
)
def test_release_time_table(label: str, window: QuietHours | None, now: datetime, expected: datetime) -> None:
    released = release_time(now.astimezone(UTC), window, WARSAW, key="k", spread=NO_SPREAD)
    assert released == expected.astimezone(UTC), label
    assert released.astimezone(WARSAW).replace(tzinfo=None) == expected.replace(tzinfo=None)


def test_dst_nights_last_their_wall_clock_length() -> None:
    spring = release_time(local("2027-03-27T21:00").astimezone(UTC), NIGHT, WARSAW, key="k", spread=NO_SPREAD)
    autumn = release_time(local("2027-10-30T21:00").astimezone(UTC), NIGHT, WARSAW, key="k", spread=NO_SPREAD)
    assert spring - local("2027-03-27T21:00") == timedelta(hours=10)
    assert autumn - local("2027-10-30T21:00") == timedelta(hours=12)


def test_the_residents_own_zone_decides() -> None:
    kyiv = ZoneInfo("Europe/Kyiv")
    now = local("2027-03-02T20:30")  # 21:30 in Kyiv
    assert release_time(now, NIGHT, WARSAW, key="k", spread=NO_SPREAD) == now
    assert release_time(now, NIGHT, kyiv, key="k", spread=NO_SPREAD) == local("2027-03-03T08:00", kyiv)


def test_morning_release_is_spread_and_stable() -> None:
    spread = timedelta(minutes=60)
    now = local("2027-03-02T23:00").astimezone(UTC)
    times = [release_time(now, NIGHT, WARSAW, key=f"q:1:{n}:a:0", spread=spread) for n in range(200)]
    morning = local("2027-03-03T08:00")
    assert all(morning <= t < morning + spread for t in times)
    assert len({t.replace(second=0) for t in times}) > 30  # spread over the hour, not one burst
    assert times == [release_time(now, NIGHT, WARSAW, key=f"q:1:{n}:a:0", spread=spread) for n in range(200)]
    assert spread_offset("x", timedelta(0)) == timedelta(0)


@pytest.mark.parametrize("window", ["21-08", "21:00", "25:00-08:00", "08:00-08:00", ""])
def test_bad_windows_are_refused(window: str) -> None:
    with pytest.raises(ValueError, match="quiet hours"):
        QuietHours.parse(window)


def test_unknown_zone_falls_back_to_warsaw() -> None:
    assert resident_zone("Mars/Olympus") == WARSAW
    assert resident_zone(None) == WARSAW
