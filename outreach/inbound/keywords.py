"""Whole-message keywords that work at any point of any conversation, on every channel."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from flows.languages import TYPED_LANGUAGE_CODES
from flows.matching import fold


class Keyword(StrEnum):
    STOP = "stop"
    START = "start"
    HELP = "help"
    LANGUAGE = "language"


@dataclass(frozen=True)
class KeywordMatch:
    keyword: Keyword
    language: str | None = None  # for LANGUAGE: the language asked for


_WORDS: dict[str, Keyword] = {
    **dict.fromkeys(
        ["stop", "stopall", "unsubscribe", "cancel", "end", "quit", "zakoncz", "rezygnacja", "стоп"],
        Keyword.STOP,
    ),
    **dict.fromkeys(["start", "unstop"], Keyword.START),
    **dict.fromkeys(["help", "info", "pomoc", "допомога"], Keyword.HELP),
}
_LANGUAGE_WORDS = {"lang", "language", "jezyk", "мова"}


def detect_keyword(text: str) -> KeywordMatch | None:
    """The keyword the whole message is, if any. A keyword inside a longer reply is an answer."""
    words = fold(text).strip().strip(".!?,;:").split()
    if len(words) == 1 and words[0] in _WORDS:
        return KeywordMatch(_WORDS[words[0]])
    if len(words) == 2 and words[0] in _LANGUAGE_WORDS and words[1] in TYPED_LANGUAGE_CODES:
        return KeywordMatch(Keyword.LANGUAGE, TYPED_LANGUAGE_CODES[words[1]])
    return None
