"""One seed of the simulated city end to end (issue 16): margins and residents imported, a campaign
sampled by district and age band previewed and launched through the command line, the questions sent
by the real engine through sandbox channels, the residents who answer (65+ three times as often as
18-29, the centre twice as often as the outskirts) replying through the signed webhook, and the
results weighted by `outreach results --weights`. `make simulate` runs all 20 seeds."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from outreach.survey.allocation import allocate
from tests.city_consultation import consult_the_city
from tests.conftest import DATABASES
from tests.simulated_city import AGE_BANDS, build_city, district_figures

SEED = 0
# CI's city is 0.6% of Gdańsk (about 2,940 residents, 1,500 asked): every step as in `make simulate`'s 1%
# city of 2,500 asked, in about half the time.
CI_SCALE, CI_SAMPLE = 0.006, 1_500


async def test_a_sampled_consultation_weighted_hears_the_city_better_than_the_raw_share(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not database_url.startswith(DATABASES[0]):  # one seed in CI, on the first backend selected
        pytest.skip("the simulated city runs once, on the first backend of OUTREACH_TEST_DATABASES")
    monkeypatch.chdir(tmp_path)  # the command line reads no stray .env
    run = await consult_the_city(database_url, tmp_path, seed=SEED, scale=CI_SCALE, sample=CI_SAMPLE)

    # The preview showed the allocation before anything was sent; the launch drew the sample.
    preview = " ".join(run.preview.split())
    assert f"Sample: {CI_SAMPLE} of {run.residents} eligible residents; strata: district × age_band" in preview
    assert "allocation proportional to the margins 'simulated-gdansk'; seed 0" in preview
    assert f"sample: {CI_SAMPLE} drawn of {run.residents} eligible" in " ".join(run.launch.split())

    # The stratified sample hit its allocation exactly: the residents who got the question, per
    # district and age band, are each cell's share of the sample (the product of the margins' shares,
    # no joint cells given) by largest remainders, a short cell giving all it has.
    city = build_city(np.random.default_rng(SEED), CI_SCALE)
    asked = Counter((city.names[city.district[who]], AGE_BANDS[city.age[who]]) for who in run.asked)
    available = Counter(
        (city.names[district], AGE_BANDS[age]) for district, age in zip(city.district, city.age, strict=True)
    )
    figures, ages = district_figures(), city.age_counts()
    shares = {
        (name, band): population / sum(figures.values()) * ages[band] / city.size
        for name, population in figures.items()
        for band in AGE_BANDS
    }
    allocation = allocate(CI_SAMPLE, shares, available)
    assert asked == {quota.stratum: quota.allocated for quota in allocation.strata if quota.allocated}
    assert sum(asked.values()) == run.contacted == CI_SAMPLE
    assert any(quota.allocated < quota.wanted for quota in allocation.strata)  # a short cell was made up for

    # Who answered is who the model said would; the figures name the margins and the method.
    assert run.answered == run.replies_taken == run.expected_answers
    assert (run.figures["margins"], run.figures["method"], run.figures["by"]) == (
        "simulated-gdansk",
        "raking",
        ["area", "age_band"],
    )
    # The raw share repeats the bias of who answers; the weighted one lands closer, its interval
    # holding the city's true share, and weighting costs precision, which the interval says.
    raw_margin = 1.96 * np.sqrt(run.raw * (1 - run.raw) / run.answered)
    assert run.truth - run.raw > raw_margin
    assert run.weighted_is_closer
    assert run.interval_holds_truth
    assert run.design_effect > 1
    assert "± " in run.table and "design effect" in run.table
