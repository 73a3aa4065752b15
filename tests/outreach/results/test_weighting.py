"""Respondents' weights per cell, and thin strata (fewer than 10 respondents): weighted like the rest,
or left unweighted on their dimension (weighted to their share of the sample)."""

from __future__ import annotations

import pytest

from outreach.results.weighting import cell_weights
from outreach.results.weighting_request import parse_thin
from outreach.survey.margins import Margins
from storage.weighting_cells import RespondentCell

HALVES = Margins(name="halves", dimensions={"district": {"a": 500.0, "b": 500.0}}, labels={("district", "b"): "B"})
# 20 respondents in A drawn for certain, 5 in B (thin) drawn with π = 0.5: base weights 20 and 10.
CELLS = [RespondentCell(("A",), 1.0, 20), RespondentCell(("B",), 0.5, 5)]


def test_a_thin_stratum_is_weighted_like_the_rest_by_default() -> None:
    weights = cell_weights(HALVES, ("district",), CELLS)
    # Post-stratified: each half holds 12.5 of 25.
    assert weights.weight(("A",), 1.0) == pytest.approx(12.5 / 20)
    assert weights.weight(("B",), 0.5) == pytest.approx(12.5 / 5)
    assert weights.left_unweighted == {}


def test_a_thin_stratum_left_unweighted_keeps_its_share_of_the_sample() -> None:
    weights = cell_weights(HALVES, ("district",), CELLS, thin="leave")
    # B's share of the sample is 10 / 30; A takes the rest. Weights sum to 25: A 25 × 2/3 over 20 people,
    # B 25 × 1/3 over 5, i.e. each respondent's base weight (1 or 2) × 25/30.
    assert weights.left_unweighted == {"district": {"b": pytest.approx(1 / 3)}}
    assert weights.weight(("A",), 1.0) == pytest.approx(5 / 6)
    assert weights.weight(("B",), 0.5) == pytest.approx(5 / 3)
    assert weights.weighting.weights.n == 25


def test_joint_cells_holding_a_value_left_unweighted_are_scaled_with_it() -> None:
    margins = Margins(
        name="joint",
        dimensions={"district": {"a": 500.0, "b": 500.0}, "age": {"young": 400.0, "old": 600.0}},
        joint={
            ("district", "age"): {
                ("a", "young"): 200.0,
                ("a", "old"): 300.0,
                ("b", "young"): 200.0,
                ("b", "old"): 300.0,
            }
        },
    )
    cells = [
        *(RespondentCell(("A", age), 1.0, 10) for age in ("young", "old")),
        *(RespondentCell(("B", age), 1.0, 2) for age in ("young", "old")),
    ]
    weights = cell_weights(margins, ("district", "age"), cells, thin="leave")
    # B holds 4 of 24 respondents: weighted to 1/6 of the city instead of a half; within each district
    # the joint cells keep their 40/60 split. 24 × 1/6 × 0.4 over 2 young in B, etc.
    assert weights.weighting.joint
    assert weights.weight(("B", "young"), 1.0) == pytest.approx(24 / 6 * 0.4 / 2)
    assert weights.weight(("B", "old"), 1.0) == pytest.approx(24 / 6 * 0.6 / 2)
    assert weights.weight(("A", "young"), 1.0) == pytest.approx(24 * 5 / 6 * 0.4 / 10)
    # The age bands are thin nowhere (12 each) and keep the population's split: 40/60.
    young = sum((weights.weight((district, "young"), 1.0) or 0) * count for district, count in (("A", 10), ("B", 2)))
    assert young / 24 == pytest.approx(0.4)


def test_thin_is_weight_or_leave() -> None:
    assert (parse_thin("weight"), parse_thin("leave")) == ("weight", "leave")
    with pytest.raises(ValueError, match="thin 'drop': use weight or leave"):
        parse_thin("drop")
