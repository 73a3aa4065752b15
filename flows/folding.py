"""Folding: the form every comparison of a reply is made on (case and Latin diacritics removed).

Cyrillic letters keep their marks (й is not и, ї is not і); they are only case-folded.
"""

from __future__ import annotations

import re
import unicodedata

Words = tuple[str, ...]

_WORD = re.compile(r"\w+")
_LATIN_END = "\u024f"  # the end of Latin Extended-B: marks on letters up to here are dropped


def fold(text: str) -> str:
    kept: list[str] = []
    for char in unicodedata.normalize("NFKD", text.casefold()):
        if unicodedata.combining(char) and kept and kept[-1] <= _LATIN_END:
            continue
        kept.append(char)
    folded = unicodedata.normalize("NFC", "".join(kept))
    return folded.replace("ł", "l")  # the one Polish letter without a Unicode decomposition


def words(text: str) -> Words:
    return tuple(_WORD.findall(fold(text)))
