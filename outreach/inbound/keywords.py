"""Whole-message keywords that work at any point of any conversation, on every channel, and how a
STOP or START came, as the consent ledger records it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from channels.base import Inbound
from flows.languages import TYPED_LANGUAGE_CODES
from flows.matching import fold
from storage.consent_ledger import Because, Source

# The provider id an email's unsubscribe link gives its STOP (outreach.web.email_links): `unsubscribe:TOKEN`.
UNSUBSCRIBE_LINK_PREFIX = "unsubscribe:"


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


def said_by(inbound: Inbound, event_id: int) -> Because:
    """How a STOP or START came: an email's unsubscribe link, the provider's own opt-out handling, a
    Telegram command, or a keyword written (the folded word only: never the message, nor a link's token)."""
    if inbound.provider_id.startswith(UNSUBSCRIBE_LINK_PREFIX):
        source, detail = Source.UNSUBSCRIBE_LINK, None
    elif inbound.opted_out_by_provider:
        source, detail = Source.PROVIDER, "the provider's STOP handling"
    elif inbound.command is not None:
        source, detail = Source.COMMAND, f"/{inbound.command}"
    else:
        source, detail = Source.KEYWORD, fold(inbound.text).strip().strip(".!?,;:")[:40]
    return Because(source, detail=detail, channel=inbound.channel, inbound_event_id=event_id)
