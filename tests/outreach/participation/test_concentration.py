"""Top shares and the Gini coefficient, checked against figures worked out by hand."""

from __future__ import annotations

import pytest

from outreach.participation.concentration import TopShare, gini, top_share

# 5, 3, 2 and seventeen 1s: 27 answers from 20 respondents (see meter_fixture for the arithmetic).
COUNTS = [1] * 17 + [2, 3, 5]


def figures(top: TopShare | None) -> tuple[int, float]:
    assert top is not None
    return top.residents, top.share


def test_top_shares_take_the_most_active_rounded_up() -> None:
    assert figures(top_share(COUNTS, 0.01)) == pytest.approx((1, 5 / 27))
    assert figures(top_share(COUNTS, 0.10)) == pytest.approx((2, 8 / 27))
    assert figures(top_share([1] * 300, 0.01)) == pytest.approx((3, 0.01))  # exactly 1% of 300, not 4


def test_gini_of_answers_per_respondent() -> None:
    assert gini(COUNTS) == pytest.approx(25 / 108)
    assert gini([4, 4, 4]) == 0.0
    assert gini([0, 0, 0, 1]) == pytest.approx(3 / 4)  # one of four gave every answer: (n − 1) / n


def test_nobody_gives_no_figure() -> None:
    assert top_share([], 0.1) is None
    assert gini([]) is None
