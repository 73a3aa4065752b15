"""Proof that weighting hears the city better (issue 16), through the pure weighting code.

A simulated Gdańsk with fixed parameters: its 490,301 residents placed by the district figures and
given one of four age bands; opinions differ by 20 points between central districts and the
outskirts and by 30 points between the youngest and the oldest; residents aged 65+ answer three
times as often as those aged 18-29, and central districts twice as often as the outskirts. A simple
random sample is invited; those who answer are raked to the city's district and age margins. Over
20 seeds the weighted share must land closer to the city's true share than the raw share in at least
18, and the 95% interval must hold the truth in at least 17.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from flows.folding import fold
from outreach.survey.estimates import estimate_question
from outreach.survey.weights import base_weights, rake
from tests.simulated_city import (
    AGE_BANDS,
    ANSWER_BY_AGE,
    CENTRAL,
    CENTRAL_ANSWER_FACTOR,
    YES_BY_AGE,
    YES_CENTRAL_SHIFT,
    YES_OUTSKIRTS_SHIFT,
    build_city,
    district_populations,
)

INVITED = 10_000
SEEDS = range(20)


@dataclass(frozen=True)
class Run:
    truth: float  # the city's share of "yes"
    raw: float  # the share of "yes" among those who answered
    weighted: float
    margin_of_error: float  # 95%, around the weighted share
    answered: int
    design_effect: float

    @property
    def weighted_is_closer(self) -> bool:
        return abs(self.weighted - self.truth) < abs(self.raw - self.truth)

    @property
    def interval_holds_truth(self) -> bool:
        return abs(self.weighted - self.truth) <= self.margin_of_error


def simulate(seed: int) -> Run:
    rng = np.random.default_rng(seed)
    city = build_city(rng)
    # A simple random sample is invited, each resident with the same inclusion probability.
    invited = rng.choice(city.size, size=INVITED, replace=False)
    answered = invited[rng.random(INVITED) < city.chance_of_answer(invited)]
    # The margins: the city's residents per district (the published figures) and per age band.
    targets = {
        "district": {name: float(count) for name, count in district_populations().items()},
        "age_band": {band: float(count) for band, count in city.age_counts().items()},
    }
    columns = {
        "district": [fold(city.names[index]) for index in city.district[answered]],
        "age_band": [AGE_BANDS[index] for index in city.age[answered]],
    }
    inclusion = np.full(len(answered), INVITED / city.size)
    weights = rake(columns, targets, base_weights(inclusion))
    answers = ["yes" if value else "no" for value in city.says_yes[answered]]
    estimate = estimate_question(answers, weights.values, keys=["yes", "no"])
    yes = estimate.value("yes")
    return Run(
        truth=city.truth,
        raw=yes.share,
        weighted=yes.weighted_share,
        margin_of_error=yes.margin_of_error,
        answered=len(answered),
        design_effect=estimate.design_effect,
    )


@pytest.fixture(scope="module")
def runs() -> list[Run]:
    return [simulate(seed) for seed in SEEDS]


def test_the_simulated_city_has_the_parameters_the_issue_asks_for() -> None:
    populations = district_populations()
    assert (len(populations), sum(populations.values())) == (35, 490_301)
    assert set(populations) >= CENTRAL  # every central district is one of the city's
    assert YES_BY_AGE[0] - YES_BY_AGE[-1] >= 0.20
    assert YES_OUTSKIRTS_SHIFT - YES_CENTRAL_SHIFT >= 0.20
    assert ANSWER_BY_AGE[-1] == pytest.approx(3 * ANSWER_BY_AGE[0])
    assert CENTRAL_ANSWER_FACTOR == 2


def test_the_raw_share_repeats_the_bias_of_who_answers(runs: list[Run]) -> None:
    # Without weights the loud groups (old, central, leaning "no") set the figure: it is off by more
    # than its own 95% margin of error in most runs.
    off = [run for run in runs if abs(run.raw - run.truth) > 1.96 * np.sqrt(run.raw * (1 - run.raw) / run.answered)]
    assert len(off) >= 18
    assert all(run.raw < run.truth for run in runs)


def test_weighting_lands_closer_to_the_city_in_at_least_18_of_20_seeds(runs: list[Run]) -> None:
    closer = sum(run.weighted_is_closer for run in runs)
    assert closer >= 18, _table(runs)


def test_the_95_percent_interval_holds_the_truth_in_at_least_17_of_20_seeds(runs: list[Run]) -> None:
    held = sum(run.interval_holds_truth for run in runs)
    assert held >= 17, _table(runs)
    assert all(run.design_effect > 1 for run in runs)  # the weights cost precision, and the interval says so


def _table(runs: list[Run]) -> str:
    rows = [f"{'seed':>4} {'truth':>6} {'raw':>6} {'weighted':>8} {'±':>6} {'n':>5} {'deff':>5}"]
    for seed, run in zip(SEEDS, runs, strict=True):
        rows.append(
            f"{seed:>4} {run.truth:6.3f} {run.raw:6.3f} {run.weighted:8.3f} {run.margin_of_error:6.3f} "
            f"{run.answered:>5} {run.design_effect:5.2f}"
        )
    return "\n".join(rows)
