"""Composing a question mail: the subject. The whole mail is asserted as the SMTP server received it, in
tests/channels/test_email.py's send table.
"""

from __future__ import annotations

import pytest

from channels.email_composition import subject_of

QUESTION = "Czy chcesz więcej ławek w Parku Oruńskim?"


@pytest.mark.parametrize(
    ("text", "subject"),
    [
        (QUESTION, QUESTION),
        ("\n  Pytanie pierwsze  \nciąg dalszy", "Pytanie pierwsze"),
        ("słowo " * 30, ("słowo " * 12).strip() + "…"),
        ("", ""),
    ],
)
def test_subject_of(text: str, subject: str) -> None:
    assert subject_of(text) == subject
    assert len(subject_of(text)) <= 78
