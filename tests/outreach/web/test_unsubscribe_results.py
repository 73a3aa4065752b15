"""What an unsubscribe click did, from the pipeline's outcome; the language of a page for nobody."""

from __future__ import annotations

import pytest

from outreach.inbound.pipeline import Outcome
from outreach.web.unsubscribe_results import UnsubscribeResult, browser_language, unsubscribe_result


@pytest.mark.parametrize(
    ("outcome", "opted_out_now", "result"),
    [
        (Outcome.STOPPED, True, UnsubscribeResult.UNSUBSCRIBED),
        (Outcome.OPTED_OUT, True, UnsubscribeResult.ALREADY),
        (Outcome.DUPLICATE, True, UnsubscribeResult.ALREADY),
        (Outcome.DUPLICATE, False, UnsubscribeResult.SUBSCRIBED_SINCE),
        (Outcome.UNKNOWN_SENDER, False, UnsubscribeResult.NOT_CHANGED),
        (Outcome.ANSWERED, False, UnsubscribeResult.NOT_CHANGED),
    ],
)
def test_each_outcome_is_told_as_what_it_did(outcome: Outcome, opted_out_now: bool, result: UnsubscribeResult) -> None:
    assert unsubscribe_result(outcome, opted_out_now=opted_out_now) is result


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "pl"),
        ("", "pl"),
        ("uk-UA,uk;q=0.9,en;q=0.8", "uk"),
        ("de-DE, en;q=0.7", "en"),
        ("fr, de", "pl"),
        ("EN-us", "en"),
    ],
)
def test_a_page_for_nobody_takes_the_browsers_first_language_we_speak(header: str | None, language: str) -> None:
    assert browser_language(header) == language
