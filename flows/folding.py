"""Folding: the form every comparison of a reply is made on (case and Latin diacritics removed).

Cyrillic letters keep their marks (й is not и, ї is not і); they are only case-folded.
"""

from __future__ import annotations

import re
import unicodedata

Words = tuple[str, ...]

_WORD = re.compile(r"\w+")
_LATIN_END = "\u024f"  # the end of Latin Extended-B: marks on letters up to here are dropped


def strip_marks(text: str) -> str:
    """The text without Latin diacritics, its case kept ("Łódź" -> "Lodz"); Cyrillic keeps its marks."""
    kept: list[str] = []
    for char in unicodedata.normalize("NFKD", text):
        if unicodedata.combining(char) and kept and kept[-1] <= _LATIN_END:
            continue
        kept.append(char)
    stripped = unicodedata.normalize("NFC", "".join(kept))
    # Ł and ł, the Polish letters without a Unicode decomposition.
    return stripped.replace("ł", "l").replace("Ł", "L")


def fold(text: str) -> str:
    return strip_marks(text.casefold())


def words(text: str) -> Words:
    return tuple(_WORD.findall(fold(text)))
