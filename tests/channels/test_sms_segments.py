"""Segment counting at the boundaries operators bill by."""

from __future__ import annotations

import pytest

from channels.sms_segments import count_segments, fold_to_gsm


@pytest.mark.parametrize(
    ("label", "text", "encoding", "units", "segments"),
    [
        ("empty", "", "GSM-7", 0, 0),
        ("plain 160", "a" * 160, "GSM-7", 160, 1),
        ("plain 161", "a" * 161, "GSM-7", 161, 2),
        ("plain 306", "a" * 306, "GSM-7", 306, 2),
        ("plain 307", "a" * 307, "GSM-7", 307, 3),
        ("euro counts two", "€" * 80, "GSM-7", 160, 1),
        ("extension char over the edge", "a" * 159 + "€", "GSM-7", 161, 2),
        ("extension pair never split", "a" * 152 + "[" + "a" * 152, "GSM-7", 306, 3),
        ("GSM accents stay GSM-7", "é à ü Ö ñ", "GSM-7", 9, 1),
        ("Polish 70", "ą" * 70, "UCS-2", 70, 1),
        ("Polish 71", "ą" * 71, "UCS-2", 71, 2),
        ("Polish 134", "ł" * 134, "UCS-2", 134, 2),
        ("Polish 135", "ł" * 135, "UCS-2", 135, 3),
        ("one Polish letter turns all UCS-2", "a" * 69 + "ó", "UCS-2", 70, 1),
        ("emoji is two units", "👍" * 35, "UCS-2", 70, 1),
        ("emoji over the edge", "a" * 69 + "👍", "UCS-2", 71, 2),
        ("surrogate pair never split", "a" * 66 + "👍" + "a" * 66, "UCS-2", 134, 3),
        ("Cyrillic", "Дякуємо!", "UCS-2", 8, 1),
    ],
)
def test_count_segments_table(label: str, text: str, encoding: str, units: int, segments: int) -> None:
    counted = count_segments(text)
    assert (counted.encoding, counted.units, counted.segments) == (encoding, units, segments), label


@pytest.mark.parametrize(
    ("text", "folded", "encoding"),
    [
        ("Zażółć gęślą jaźń", "Zazolc gesla jazn", "GSM-7"),
        ("ŁÓDŹ", "LODZ", "GSM-7"),
        ("„Park” – co dalej…", '"Park" - co dalej...', "GSM-7"),
        ("café über", "café über", "GSM-7"),  # GSM-7 has these: left alone
        ("Дякуємо, Гданськ", "Дякуємо, Гданськ", "UCS-2"),  # Cyrillic is never folded
    ],
)
def test_fold_to_gsm_table(text: str, folded: str, encoding: str) -> None:
    assert fold_to_gsm(text) == folded
    assert count_segments(fold_to_gsm(text)).encoding == encoding


def test_folding_saves_segments_on_a_long_polish_question() -> None:
    question = "Czy w ciągu ostatniego roku byłeś/-aś w Parku Oruńskim? Odpowiedz: 1) tak 2) nie. Dziękujemy bardzo!"
    assert count_segments(question).segments == 2
    assert count_segments(fold_to_gsm(question)).segments == 1
