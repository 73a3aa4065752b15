"""Time values of a campaign file: durations ("48h"), aware datetimes and quiet-hours windows.

Each type parses what an official writes and dumps (in JSON mode) to a form that parses again, because
a stored campaign is its JSON dump, validated anew whenever it is used.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer
from pydantic_core import PydanticCustomError

_UNIT_SECONDS = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}  # largest first: see format_duration
_DURATION = re.compile(r"(?:\d+[dhms])+")
_DURATION_PART = re.compile(r"(\d+)([dhms])")
_WINDOW = re.compile(r"(\d?\d):(\d\d)\s*-\s*(\d?\d):(\d\d)")
# YAML allows a space before the offset ("2027-03-02 10:00:00 +01:00"); fromisoformat does not.
_SPACE_BEFORE_OFFSET = re.compile(r"\s+(?=[+-]\d\d(?::?\d\d)?$|Z$)")

_HAS_TIME = re.compile(r"\d[T t]\d")

DURATION_EXAMPLES = "e.g. 90s, 30m, 48h or 2d"
DATETIME_EXAMPLE = "2027-03-02T10:00:00+01:00"


def parse_duration(value: Any) -> timedelta:
    """ "48h" -> 48 hours; units d, h, m, s, which may be combined ("1h30m")."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
        if seconds > 0 and seconds.is_integer():
            return value
    elif isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        if _DURATION.fullmatch(text):
            total = sum(int(n) * _UNIT_SECONDS[unit] for n, unit in _DURATION_PART.findall(text))
            if total > 0:
                return timedelta(seconds=total)
    raise PydanticCustomError(
        "duration",
        "'{value}' is not a duration; write a whole number and a unit ({examples}), longer than zero",
        {"value": str(value), "examples": DURATION_EXAMPLES},
    )


def format_duration(value: timedelta) -> str:
    """The shortest exact form: 48 hours -> "2d", 90 minutes -> "90m"."""
    seconds = int(value.total_seconds())
    for unit, size in _UNIT_SECONDS.items():
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    raise AssertionError("unreachable: every whole number of seconds divides by 1")


def parse_aware_datetime(value: Any) -> datetime:
    """A date and time with an offset; a naive one would mean a different moment on every server."""
    written = value.isoformat() if isinstance(value, date) else str(value)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(_SPACE_BEFORE_OFFSET.sub("", value.strip()))
        except ValueError:
            raise PydanticCustomError(
                "datetime",
                "'{value}' is not a date and time; write it like {example}",
                {"value": value, "example": DATETIME_EXAMPLE},
            ) from None
        # fromisoformat reads a bare date as midnight; it is still a date without a time.
        value = parsed if _HAS_TIME.search(value) else parsed.date()
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            raise PydanticCustomError(
                "naive_datetime",
                "'{value}' has no time zone; give an offset, e.g. +01:00 ({example})",
                {"value": written, "example": DATETIME_EXAMPLE},
            )
        return value
    if isinstance(value, date):
        raise PydanticCustomError(
            "naive_datetime",
            "'{value}' is a date alone; give a time and an offset, e.g. {example}",
            {"value": written, "example": DATETIME_EXAMPLE},
        )
    raise PydanticCustomError("datetime", "write a date and time like {example}", {"example": DATETIME_EXAMPLE})


def parse_quiet_hours(value: Any) -> str:
    """ "21:00-08:00" (may cross midnight), normalised to that form; start and end must differ."""
    match = _WINDOW.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is not None:
        hours_from, minutes_from, hours_to, minutes_to = (int(part) for part in match.groups())
        try:
            start, end = time(hours_from, minutes_from), time(hours_to, minutes_to)
        except ValueError:
            pass  # 25:00 and the like: reported below
        else:
            if start != end:
                return f"{start:%H:%M}-{end:%H:%M}"
    raise PydanticCustomError(
        "quiet_hours",
        "'{value}' is not a quiet-hours window; write \"HH:MM-HH:MM\" with two different times, "
        'e.g. "21:00-08:00" (it may cross midnight), or null for none',
        {"value": str(value)},
    )


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
]
OffsetDatetime = Annotated[datetime, BeforeValidator(parse_aware_datetime)]
QuietHoursText = Annotated[str, BeforeValidator(parse_quiet_hours)]
