from __future__ import annotations

import math

import pytest

from outreach.survey.estimates import (
    Answer,
    estimate_question,
    margin_of_error,
    response_rates,
    thin_strata,
    weighted_shares,
)
from outreach.survey.weighting_error import WeightingError
from outreach.survey.weights import base_weights, post_stratify
from tests.outreach.survey.hand_fixture import (
    ANSWERS,
    CITY,
    DESIGN_EFFECT,
    DISTRICTS,
    EFFECTIVE_N,
    MARGIN_OF_ERROR_YES,
    PROBABILITIES,
    WEIGHTED_YES,
)


def test_the_hand_computed_fixture_gives_shares_and_margins_of_error() -> None:
    weights = post_stratify(DISTRICTS, CITY, base_weights(PROBABILITIES)).values
    estimate = estimate_question(ANSWERS, weights)
    assert estimate.n == 10
    assert estimate.effective_n == pytest.approx(EFFECTIVE_N, rel=1e-12)
    assert estimate.design_effect == pytest.approx(DESIGN_EFFECT, rel=1e-12)
    yes = estimate.value("yes")
    assert (yes.n, yes.share) == (4, 0.4)
    assert yes.weighted_share == pytest.approx(WEIGHTED_YES, rel=1e-12)
    assert yes.margin_of_error == pytest.approx(MARGIN_OF_ERROR_YES, abs=1e-6)
    no = estimate.value("no")
    assert (no.n, no.share) == (6, 0.6)
    assert no.weighted_share == pytest.approx(1 - WEIGHTED_YES)
    assert no.margin_of_error == pytest.approx(yes.margin_of_error)
    assert [value.value for value in estimate.values] == ["no", "yes"]


def test_unweighted_figures_are_the_plain_ones() -> None:
    estimate = estimate_question(["a", "b", "b", "b"], keys=["b", "c"])
    assert [value.value for value in estimate.values] == ["b", "c", "a"]  # named keys first, unanswered kept
    assert (estimate.effective_n, estimate.design_effect) == (4, 1)
    assert estimate.value("b").weighted_share == 0.75
    assert estimate.value("b").margin_of_error == pytest.approx(1.96 * math.sqrt(0.75 * 0.25 / 4))
    assert (estimate.value("c").n, estimate.value("c").weighted_share, estimate.value("c").margin_of_error) == (0, 0, 0)


def test_a_multi_answer_counts_towards_each_of_its_keys() -> None:
    shares = weighted_shares([("bus", "tram"), "tram", ("bike", "bike")], [1.0, 2.0, 1.0])
    assert shares == {"bike": 0.25, "bus": 0.25, "tram": 0.75}


def test_no_answers_and_mismatched_weights() -> None:
    estimate = estimate_question([], [], keys=["yes"])
    assert estimate.n == 0
    assert math.isnan(estimate.value("yes").weighted_share)
    assert math.isnan(estimate.value("yes").margin_of_error)
    with pytest.raises(WeightingError, match="1 weights for 2 answers"):
        estimate_question(["a", "b"], [1.0])


def test_margin_of_error() -> None:
    assert margin_of_error(0.5, 100) == pytest.approx(0.098)
    assert margin_of_error(0.0, 100) == 0
    assert math.isnan(margin_of_error(0.5, 0))
    with pytest.raises(ValueError, match="a share lies in"):
        margin_of_error(1.5, 10)


def test_response_rates_and_thin_strata() -> None:
    drawn = {"oliwa": 40, "osowa": 20, "letnica": 0}
    answered = {"oliwa": 30, "osowa": 4}
    assert response_rates(drawn, answered) == {"oliwa": 0.75, "osowa": 0.2}
    assert thin_strata({"oliwa": 30, "osowa": 4, "letnica": 0}) == ["osowa"]
    assert thin_strata({"oliwa": 30, "osowa": 4}, minimum=40) == ["oliwa", "osowa"]


def test_grouped_answers_with_frequencies_give_the_figures_of_the_answers_repeated() -> None:
    grouped: list[Answer] = ["yes", "no", "yes", ("a", "b"), "no"]
    weights = [0.5, 2.0, 1.5, 3.0, 0.25]
    frequencies = [3, 1, 2, 4, 0]
    expanded = [answer for answer, count in zip(grouped, frequencies, strict=True) for _ in range(count)]
    repeated = [weight for weight, count in zip(weights, frequencies, strict=True) for _ in range(count)]
    keys = ["yes", "no", "maybe"]
    together = estimate_question(grouped, weights, keys, frequencies=frequencies)
    apart = estimate_question(expanded, repeated, keys)
    assert (together.n, [value.value for value in together.values]) == (
        apart.n,
        [value.value for value in apart.values],
    )
    assert together.effective_n == pytest.approx(apart.effective_n)
    assert together.design_effect == pytest.approx(apart.design_effect)
    for mine, theirs in zip(together.values, apart.values, strict=True):
        assert mine.n == theirs.n
        assert mine.share == pytest.approx(theirs.share, nan_ok=True)
        assert mine.weighted_share == pytest.approx(theirs.weighted_share)
        assert mine.margin_of_error == pytest.approx(theirs.margin_of_error)
    with pytest.raises(WeightingError, match="frequencies"):
        estimate_question(grouped, weights, frequencies=[1, 2])
