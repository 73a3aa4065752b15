"""Age bands ("18-29", "65+"): the one way the service writes an age group. The bands themselves are a
setting (OUTREACH_AGE_BANDS); imports, enrolment, the demo, margins and results all read them there
and name a band by its label."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

AGE_BAND = "age_band"  # the resident attribute
# Poland's age of digital consent (GDPR art. 8, ustawa o ochronie danych osobowych art. 1a): nobody
# younger is enrolled, by an import or by themselves.
MINIMUM_AGE = 16
DEFAULT_AGE_BANDS = ("18-29", "30-44", "45-64", "65+")
OLDEST = 130  # no band starts beyond

_BAND = re.compile(r"(\d{1,3})\s*[-\u2010-\u2015]\s*(\d{1,3})|(\d{1,3})\s*\+")  # hyphens and dashes
_AGE = re.compile(r"\d{1,3}")


@dataclass(frozen=True)
class AgeBand:
    low: int
    high: int | None  # None: open-ended ("65+")

    @property
    def label(self) -> str:
        return f"{self.low}+" if self.high is None else f"{self.low}-{self.high}"

    def holds(self, age: int) -> bool:
        return self.low <= age and (self.high is None or age <= self.high)


def parse_band(text: str) -> AgeBand | None:
    """The band `text` writes ("30-44", "30 – 44", "65+"); None when it writes none."""
    found = _BAND.fullmatch(text.strip())
    if found is None:
        return None
    if found[3] is not None:
        return AgeBand(int(found[3]), None)
    low, high = int(found[1]), int(found[2])
    return AgeBand(low, high) if low <= high else None


def parse_age_bands(labels: Iterable[str]) -> tuple[AgeBand, ...]:
    """The bands of a setting, youngest first; ValueError unless they follow each other without a gap
    or an overlap and only the last is open-ended."""
    bands: list[AgeBand] = []
    for label in labels:
        band = parse_band(label)
        if band is None or band.low > OLDEST:
            raise ValueError(f"'{label}' is not an age band (like 18-29 or 65+)")
        if bands:
            previous = bands[-1]
            if previous.high is None:
                raise ValueError(
                    f"only the last age band may be open-ended: '{previous.label}' is followed by '{label}'"
                )
            if band.low != previous.high + 1:
                raise ValueError(
                    f"age bands follow each other without a gap or an overlap: '{label}' after '{previous.label}'"
                    f" must start at {previous.high + 1}"
                )
        bands.append(band)
    if not bands:
        raise ValueError("no age bands: give them youngest first, e.g. 18-29,30-44,45-64,65+")
    return tuple(bands)


def age_band_of(value: str, labels: Sequence[str]) -> str | None:
    """The label of the band that `value` names, among the bands `labels` (a setting's): the band
    spelled loosely ("30 - 44", "30–44") or an age ("37"); None when it names none of them."""
    bands = _setting_bands(tuple(labels))
    written = value.strip()
    if _AGE.fullmatch(written):
        age = int(written)
        return next((band.label for band in bands if band.holds(age)), None)
    band = parse_band(written)
    return band.label if band in bands else None


def under_minimum_age(value: str) -> bool:
    """`value` is an age under MINIMUM_AGE, or a band that starts below it ("13-15", and "14-17" too:
    its residents may be under 16, and nothing tells which)."""
    written = value.strip()
    if _AGE.fullmatch(written):
        return int(written) < MINIMUM_AGE
    band = parse_band(written)
    return band is not None and band.low < MINIMUM_AGE


@lru_cache(maxsize=8)
def _setting_bands(labels: tuple[str, ...]) -> tuple[AgeBand, ...]:
    """A setting's bands, parsed once: an import asks for them on every row."""
    return parse_age_bands(labels)
