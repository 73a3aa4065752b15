from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import weightipy

from outreach.survey.weighting_error import WeightingError
from outreach.survey.weights import (
    base_weights,
    design_effect,
    kish_effective_n,
    normalised,
    post_stratify,
    rake,
    unweighted,
)
from tests.outreach.survey.hand_fixture import CITY, DESIGN_EFFECT, DISTRICTS, EFFECTIVE_N, PROBABILITIES, WEIGHTS


def test_the_hand_computed_fixture_post_stratifies_the_inverse_inclusion_probabilities() -> None:
    weights = post_stratify(DISTRICTS, CITY, base_weights(PROBABILITIES), dimension="district")
    assert weights.values == pytest.approx(WEIGHTS, rel=1e-12)
    assert weights.values.sum() == pytest.approx(10)
    assert weights.effective_n == pytest.approx(EFFECTIVE_N, rel=1e-12)
    assert weights.design_effect == pytest.approx(DESIGN_EFFECT, rel=1e-12)
    assert (weights.method, weights.dimensions, weights.iterations) == ("post-stratification", ("district",), 1)
    # Raking on one dimension is the same post-stratification, and shares serve as well as populations.
    raked = rake({"district": DISTRICTS}, {"district": {"centre": 0.4, "outskirts": 0.6}}, base_weights(PROBABILITIES))
    assert raked.values == pytest.approx(WEIGHTS, rel=1e-12)
    assert raked.method == "post-stratification"


def test_raking_a_two_by_two_sample_meets_the_closed_form() -> None:
    # young×centre 1, young×outskirts 3, old×centre 4, old×outskirts 2; every margin 50/50.
    # Raked weights are a_age·b_district; with b_centre = 1 the margins give 3t² = 2 for t = b_outskirts.
    ages = ["young"] * 4 + ["old"] * 6
    districts = ["centre", "outskirts", "outskirts", "outskirts", "centre", "centre", "centre", "centre"]
    districts += ["outskirts", "outskirts"]
    t = math.sqrt(2 / 3)
    young, old = 5 / (1 + 3 * t), 5 / (4 + 2 * t)
    expected = [young, young * t, young * t, young * t, old, old, old, old, old * t, old * t]
    weights = rake(
        {"age": ages, "district": districts},
        {"age": {"young": 1, "old": 1}, "district": {"centre": 1, "outskirts": 1}},
        tolerance=1e-14,
    )
    assert weights.values == pytest.approx(expected, rel=1e-9)
    assert weights.method == "raking"
    assert weights.iterations > 1
    assert weights.dimensions == ("age", "district")


def test_a_sample_shaped_like_its_margins_is_raked_in_one_round() -> None:
    # Cells 2, 2, 3, 3: age and district independent in the sample, so one round of raking meets both
    # margins and each weight is n²·R_age·C_district / (r_age·c_district).
    ages = ["young"] * 4 + ["old"] * 6
    districts = ["centre", "centre", "outskirts", "outskirts"] + ["centre"] * 3 + ["outskirts"] * 3
    shares = {"age": {"young": 0.3, "old": 0.7}, "district": {"centre": 0.2, "outskirts": 0.8}}
    weights = rake({"age": ages, "district": districts}, shares)
    sample = {"young": 4, "old": 6, "centre": 5, "outskirts": 5}
    expected = [
        100 * shares["age"][age] * shares["district"][district] / (sample[age] * sample[district])
        for age, district in zip(ages, districts, strict=True)
    ]
    assert weights.values == pytest.approx(expected, rel=1e-12)
    assert weights.iterations == 1


def _frame(seed: int, n: int) -> dict[str, list[str]]:
    rng = np.random.default_rng(seed)
    return {
        "age_band": list(rng.choice(["18-29", "30-44", "45-64", "65+"], n, p=[0.1, 0.2, 0.3, 0.4])),
        "district": list(
            rng.choice(["srodmiescie", "oliwa", "orunia", "osowa", "letnica"], n, p=[0.4, 0.2, 0.2, 0.1, 0.1])
        ),
        "sex": list(rng.choice(["f", "m"], n, p=[0.6, 0.4])),
    }


TARGETS = {
    "age_band": {"18-29": 20.0, "30-44": 25.0, "45-64": 30.0, "65+": 25.0},
    "district": {"srodmiescie": 15.0, "oliwa": 25.0, "orunia": 20.0, "osowa": 25.0, "letnica": 15.0},
    "sex": {"f": 52.0, "m": 48.0},
}


def _weightipy(columns: dict[str, list[str]], targets: dict[str, dict[str, float]], cap: float = 0) -> np.ndarray:
    scheme = weightipy.Rim("reference", max_iterations=100_000, convcrit=1e-15, cap=cap)
    scheme.anesrake_cap_correction = False  # cap exactly at `cap`, not a hair above
    scheme.set_targets([{dimension: dict(shares)} for dimension, shares in targets.items()])
    return np.asarray(weightipy.weight(pd.DataFrame(columns), scheme).to_numpy(), dtype=np.float64)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("dimensions", [("age_band",), ("age_band", "district"), ("age_band", "district", "sex")])
def test_raked_weights_agree_with_weightipy(seed: int, dimensions: tuple[str, ...]) -> None:
    frame = _frame(seed, 800)
    columns = {dimension: frame[dimension] for dimension in dimensions}
    targets = {dimension: TARGETS[dimension] for dimension in dimensions}
    ours = rake(columns, targets, tolerance=1e-13)
    assert ours.values == pytest.approx(_weightipy(columns, targets), rel=1e-6)
    assert ours.values.sum() == pytest.approx(800)


@pytest.mark.parametrize("seed", [4, 5])
def test_trimmed_weights_agree_with_weightipy_capped_at_the_same_multiple_of_the_mean(seed: int) -> None:
    frame = _frame(seed, 600)
    targets = {"age_band": TARGETS["age_band"], "district": TARGETS["district"]}
    columns = {dimension: frame[dimension] for dimension in targets}
    untrimmed = rake(columns, targets)
    assert untrimmed.values.max() > 4  # the cap bites
    trimmed = rake(columns, targets, tolerance=1e-13, trim=3)
    assert trimmed.values == pytest.approx(_weightipy(columns, targets, cap=3), rel=1e-6)
    assert trimmed.values.max() == pytest.approx(3)
    assert trimmed.trimmed == int(np.count_nonzero(trimmed.values > 3 - 1e-9)) > 0
    assert trimmed.values.sum() == pytest.approx(600)
    assert trimmed.design_effect < untrimmed.design_effect
    for dimension, populations in targets.items():  # re-raked: the margins still hold
        for value, population in populations.items():
            chosen = np.array(columns[dimension]) == value
            assert trimmed.values[chosen].sum() / 600 == pytest.approx(population / 100, abs=1e-9)


def test_base_weights_count_like_copies_of_a_respondent() -> None:
    # weightipy starts from equal weights; a base weight of 3 must act as three identical respondents.
    frame = _frame(6, 300)
    targets = {"age_band": TARGETS["age_band"], "sex": TARGETS["sex"]}
    columns = {dimension: frame[dimension] for dimension in targets}
    copies = np.where(np.arange(300) % 3 == 0, 3, 1)
    ours = rake(columns, targets, base_weights(1 / copies), tolerance=1e-13)
    repeated = {dimension: list(np.repeat(values, copies)) for dimension, values in columns.items()}
    reference = _weightipy(repeated, targets)
    firsts = np.concatenate(([0], np.cumsum(copies)[:-1]))
    # Normalised to n: the copies' weights sum to 300·(their weight)/len(repeated), times their number.
    expected = reference[firsts] * copies * 300 / copies.sum()
    assert ours.values == pytest.approx(expected, rel=1e-6)


def test_an_empty_cell_is_a_clear_error() -> None:
    with pytest.raises(WeightingError, match=r"no respondent has district=osowa.*empty cell.*collapse"):
        rake(
            {"age_band": ["18-29", "65+"], "district": ["oliwa", "oliwa"]},
            {"age_band": {"18-29": 1, "65+": 1}, "district": {"oliwa": 1, "osowa": 1}},
        )
    with pytest.raises(WeightingError, match=r"no respondent has cell=oliwa×65\+"):
        post_stratify([("oliwa", "18-29")], {("oliwa", "18-29"): 5, ("oliwa", "65+"): 7})


def test_values_the_margins_lack_are_counted_not_dropped() -> None:
    with pytest.raises(WeightingError, match=r"3 respondents have a value of district .*brzezno \(2\), \(none\) \(1\)"):
        rake({"district": ["oliwa", "brzezno", None, "brzezno"]}, {"district": {"oliwa": 1}})


def test_margins_that_cannot_be_met_together_stop_at_the_iteration_cap() -> None:
    # Every young respondent lives in the centre and every old one outside it: age and district are the
    # same split in the sample, but the margins give them different shares.
    columns = {"age": ["young", "young", "old", "old"], "district": ["centre", "centre", "out", "out"]}
    targets = {"age": {"young": 0.5, "old": 0.5}, "district": {"centre": 0.2, "out": 0.8}}
    with pytest.raises(WeightingError, match=r"cannot be met together: after 50 rounds .* 30\.00% off"):
        rake(columns, targets, max_iterations=50)


def test_a_cap_the_margins_cannot_live_with_is_an_error_that_says_so() -> None:
    # One dimension: everyone in a cell has the same weight, so capping it can never be raked back.
    with pytest.raises(WeightingError, match=r"cap of 1\.5× the mean weight may be too tight"):
        rake({"age": ["young", "old", "old", "old"]}, {"age": {"young": 1, "old": 1}}, trim=1.5, max_iterations=20)
    with pytest.raises(WeightingError, match="trim must be more than 1"):
        rake({"age": ["young"]}, {"age": {"young": 1}}, trim=1)


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(WeightingError, match=r"inclusion probabilities are not in \(0, 1\]"):
        base_weights([0.5, 0.0])
    with pytest.raises(WeightingError, match="no respondents"):
        rake({"age": []}, {"age": {"young": 1}})
    with pytest.raises(WeightingError, match="no values for district"):
        rake({"age": ["young"]}, {"age": {"young": 1}, "district": {"a": 1}})
    with pytest.raises(WeightingError, match="must be a positive number"):
        rake({"age": ["young"]}, {"age": {"young": 1, "old": 0}})
    with pytest.raises(WeightingError, match="2 base weights for 1 respondents"):
        rake({"age": ["young"]}, {"age": {"young": 1}}, [1.0, 2.0])
    with pytest.raises(WeightingError, match="one value per respondent"):
        rake({"a": ["x"], "b": ["y", "y"]}, {"a": {"x": 1}, "b": {"y": 1}})


def test_normalisation_kish_and_the_design_effect() -> None:
    assert normalised([1, 3]) == pytest.approx([0.5, 1.5])
    assert kish_effective_n([1, 1, 1, 1]) == 4
    assert kish_effective_n([2, 0, 0, 0]) == 1  # one respondent carries everything
    assert kish_effective_n([]) == 0
    assert design_effect([1, 3]) == pytest.approx(2 / (16 / 10))
    assert unweighted(3).effective_n == 3
    assert unweighted(3).design_effect == 1
