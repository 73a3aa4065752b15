"""Whole-message keywords, as a table: what is a keyword, and what is an answer."""

from __future__ import annotations

import pytest

from outreach.inbound.keywords import Keyword, KeywordMatch, detect_keyword

STOP = KeywordMatch(Keyword.STOP)
START = KeywordMatch(Keyword.START)
HELP = KeywordMatch(Keyword.HELP)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("STOP", STOP),
        ("stop", STOP),
        (" Stop. ", STOP),
        ("STOPALL", STOP),
        ("unsubscribe", STOP),
        ("CANCEL", STOP),
        ("end", STOP),
        ("Quit!", STOP),
        ("ZAKONCZ", STOP),
        ("zakończ", STOP),
        ("REZYGNACJA", STOP),
        ("СТОП", STOP),
        ("стоп", STOP),
        ("START", START),
        ("unstop", START),
        ("HELP", HELP),
        ("info?", HELP),
        ("Pomoc", HELP),
        ("ДОПОМОГА", HELP),
        ("LANG EN", KeywordMatch(Keyword.LANGUAGE, "en")),
        ("język pl", KeywordMatch(Keyword.LANGUAGE, "pl")),
        ("JĘZYK PL", KeywordMatch(Keyword.LANGUAGE, "pl")),
        ("МОВА UK", KeywordMatch(Keyword.LANGUAGE, "uk")),
        ("lang ua", KeywordMatch(Keyword.LANGUAGE, "uk")),
        # A keyword inside a longer reply is an answer.
        ("stop it please", None),
        ("nie, stop", None),
        ("please help me", None),
        ("start the tram earlier", None),
        ("lang de", None),
        ("lang", None),
        ("tak", None),
        ("", None),
        ("stopp", None),
    ],
)
def test_detect_keyword_table(reply: str, expected: KeywordMatch | None) -> None:
    assert detect_keyword(reply) == expected
