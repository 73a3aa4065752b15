"""How many SMS segments a text costs, as operators count them.

A text that fits the GSM-7 alphabet costs 160 septets in one segment and 153 per part when split
(characters from the extension table, such as € [ ] { }, take two septets and are never split).
One character outside GSM-7 (any Polish letter: ą ć ę ł ń ó ś ź ż) turns the whole text into UCS-2:
70 UTF-16 units in one segment, 67 per part, and a character outside the BMP (an emoji) is two units
that are never split.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67

Encoding = Literal["GSM-7", "UCS-2"]


@dataclass(frozen=True)
class SegmentCount:
    encoding: Encoding
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int


def _gsm7_costs(text: str) -> list[int] | None:
    """Septets per character, or None when a character is outside GSM-7."""
    costs = []
    for char in text:
        try:
            costs.append(len(char.encode("gsm03.38")))
        except UnicodeEncodeError:
            return None
    return costs


def _ucs2_costs(text: str) -> list[int]:
    return [len(char.encode("utf-16-le")) // 2 for char in text]


def _parts(costs: list[int], single: int, part: int) -> int:
    total = sum(costs)
    if total <= single:
        return 1 if costs else 0
    segments, used = 1, 0
    for cost in costs:  # fill greedily: a character is never split across two parts
        if used + cost > part:
            segments, used = segments + 1, 0
        used += cost
    return segments


def count_segments(text: str) -> SegmentCount:
    gsm = _gsm7_costs(text)
    if gsm is not None:
        return SegmentCount("GSM-7", sum(gsm), _parts(gsm, GSM7_SINGLE, GSM7_PART))
    ucs2 = _ucs2_costs(text)
    return SegmentCount("UCS-2", sum(ucs2), _parts(ucs2, UCS2_SINGLE, UCS2_PART))


# Polish letters outside GSM-7 and typography that word processors put in: their plain forms.
# Cyrillic is never folded (a transliterated Ukrainian text is a different text); accented letters
# that GSM-7 has (é, ü, à…) stay as they are.
_GSM_FOLDS = str.maketrans(
    {
        **dict(zip("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ", "acelnoszzACELNOSZZ", strict=True)),
        "“": '"',
        "”": '"',
        "„": '"',
        "‘": "'",
        "’": "'",
        "–": "-",
        "—": "-",
        "…": "...",
        "\u00a0": " ",
    }
)


def fold_to_gsm(text: str) -> str:
    """Polish diacritics and typographic punctuation folded to GSM-7, for SMS only."""
    return text.translate(_GSM_FOLDS)
