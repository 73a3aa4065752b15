"""Cutting a reply down to what the resident wrote: Gmail, Outlook, Apple Mail and Thunderbird headers,
separators, signatures and closings in English, Polish and Ukrainian. Real clients' raw replies, read
whole: tests/channels/test_email_parsing.py.
"""

from __future__ import annotations

import pytest

from channels.email_quotes import cut_reply


@pytest.mark.parametrize(
    ("label", "text", "expected"),
    [
        ("nothing to cut", "Tak", "Tak"),
        ("Gmail en one line", "Yes\n\nOn Tue, Mar 2, 2027 at 10:00 AM X <x@y.example> wrote:\n> q", "Yes"),
        ("Gmail pl wrapped", "Tak\n\nW dniu wt., 2 mar 2027 o 10:00 X <x@y.example>\nnapisał(a):\n> q", "Tak"),
        ("Gmail pl napisała", "Nie\n\nW dniu śr., 3 mar 2027 o 09:00 Anna <a@y.example> napisała:\n> q", "Nie"),
        ("Thunderbird pl Dnia", "2\n\nDnia 2.03.2027 o 10:00, Miasto Gdańsk pisze:\n> q", "2"),
        ("Thunderbird pl W dniu", "2\n\nW dniu 02.03.2027 o 10:00, Miasto Gdańsk pisze:\n> q", "2"),
        ("Apple pl", "3\n\n> Dnia 2 mar 2027, o godz. 10:00, X <x@y.example> napisał(a):\n>\n> q", "3"),
        ("Outlook pl", "Tak\n\nOd: X <x@y.example>\nWysłane: wtorek, 2 marca 2027 10:00\nDo: Y\nTemat: Z\n\nq", "Tak"),
        ("Outlook pl Wysłano", "Tak\n\nOd: X\nWysłano: wtorek, 2 marca 2027 10:00\nDo: Y\n\nq", "Tak"),
        ("Outlook en", "Yes\r\n\r\nFrom: X\r\nSent: Tuesday, March 2, 2027 10:00 AM\r\nTo: Y\r\n\r\nq", "Yes"),
        ("Outlook underscores", "Nie\n\n________________________________\nFrom: X\nSent: Tue\n\nq", "Nie"),
        ("Original Message separator", "Nie\n\n-----Original Message-----\nq", "Nie"),
        ("Wiadomość oryginalna", "Nie\n\n-------- Wiadomość oryginalna --------\nq", "Nie"),
        ("'-- ' signature", "Tak\n-- \nJan", "Tak"),
        ("'--' without its space", "Tak\n--\nJan", "Tak"),
        ("Wysłane z iPhone'a", "Tak\n\nWysłane z iPhone'a", "Tak"),
        ("Sent from Outlook for Android", "Yes\n\nGet Outlook for Android", "Yes"),
        ("Pozdrawiam + name", "Tak\n\nPozdrawiam\nJan Kowalski", "Tak"),
        ("a valediction alone stays", "Dziękuję", "Dziękuję"),
        ("a long text after 'Dzięki' is no signature", "Tak\nDzięki\n" + "\n".join(["x" * 70] * 2), None),
        ("the resident quoting someone is no header", "Mój sąsiad napisał:\nże park jest super", None),
        ("a sentence ending in 'wrote:' after a period", "Tak.\nAnna wrote:\nx", None),
        ("bottom-posted", "On Tue, 2 Mar 2027 X wrote:\n> q\n> q\n\n1\n\n-- \nJan", "1"),
        ("interleaved quote lines dropped", "> Czy chcesz?\nTak\n> A to?\nNie", "Tak\nNie"),
        ("only a quote", "> Czy chcesz?\n> 1) Tak", ""),
        ("empty Outlook reply takes nothing from the original", "\nOd: X\nWysłane: wt\nDo: Y\n\nCzy chcesz?", ""),
        ("Ukrainian Gmail", "Так\n\nвт, 2 бер. 2027 р. о 10:00 X <x@y.example> пише:\n> q", "Так"),
        ("non-breaking spaces", "Tak\u00a0\n\nOn\u00a0Tue, 2 Mar 2027 X <x@y.example> wrote:\n> q", "Tak"),
    ],
)
def test_cut_reply_table(label: str, text: str, expected: str | None) -> None:
    assert cut_reply(text) == (text if expected is None else expected), label
