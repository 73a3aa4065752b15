"""How many SMS segments a text costs, as operators count them.

A text that fits the GSM-7 alphabet costs 160 septets in one segment and 153 per part when split
(characters from the extension table, such as € [ ] { }, take two septets and are never split).
One character outside GSM-7 (any Polish letter: ą ć ę ł ń ó ś ź ż) turns the whole text into UCS-2:
70 UTF-16 units in one segment, 67 per part, and a character outside the BMP (an emoji) is two units
that are never split.
"""

from __future__ import annotations

import unicodedata
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


_FOLD = str.maketrans(
    {
        **dict(zip("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ", "acelnoszzACELNOSZZ", strict=True)),
        **dict.fromkeys("“”„‟«»″", '"'),
        **dict.fromkeys("‘’‚‛′", "'"),
        **dict.fromkeys("‐‑‒–—―−", "-"),
        **dict.fromkeys("\u00a0\u2007\u2009\u202f", " "),
        "…": "...",
        "\u00ad": "",
    }
)


def _fold_char(char: str) -> str:
    if count_segments(char).encoding == "GSM-7":
        return char  # é, ü, ñ, Ö … are GSM-7 already
    folded = char.translate(_FOLD)
    if folded != char:
        return folded
    base = unicodedata.normalize("NFD", char)[0]
    if unicodedata.name(char, "").startswith("LATIN") and base.isascii():
        return base  # other Latin letters with diacritics (č, ő, ř …); Cyrillic and the rest never
    return char


def fold_to_gsm(text: str) -> str:
    """The text in plain GSM-7 where that is possible: what an SMS with `fold_diacritics` carries.

    Polish letters lose their diacritics (ą→a, ć→c, ę→e, ł→l, ń→n, ó→o, ś→s, ź/ż→z, capitals too),
    typographic quotes, dashes, ellipses and non-breaking spaces become ASCII. When the text would still
    need UCS-2 (Cyrillic, which is never folded, or an emoji), it comes back unchanged: folding would
    only lose the spelling without saving a segment.
    """
    folded = "".join(_fold_char(char) for char in text)
    return folded if count_segments(folded).encoding == "GSM-7" else text
