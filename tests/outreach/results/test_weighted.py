"""Weighted results against the hand-worked campaign of weighted_fixture: shares, margins of error,
effective n and design effect; inclusion probabilities from the recorded sample; respondents matching
no margin left out and counted; strata with small counts suppressed; located errors."""

from __future__ import annotations

import math

import pytest

from outreach.bootstrap import Services
from outreach.results.weighted import weighted_results
from outreach.results.weighting_request import WeightingRequest, parse_collapse
from outreach.survey.margins import MarginsError
from outreach.survey.weighting_error import WeightingError
from tests.outreach.results.weighted_fixture import DESIGN_EFFECT, EFFECTIVE_N, YES_SHARE, answered_city


async def test_post_stratified_figures_match_the_hand_worked_ones(services: Services) -> None:
    record = await answered_city(services)
    flow = services.definitions.flow(record)
    results = await weighted_results(services.sessions, record, flow, WeightingRequest("city", ("district",)), k=1)
    assert (results.margins, results.method, results.by, results.joint) == (
        "city",
        "post-stratification",
        ["district"],
        False,
    )
    assert (results.contacted, results.respondents, results.weighted, results.left_out) == (16, 11, 10, 1)
    assert results.unmatched == {"district": {"Mars": 1}}
    visits = results.questions[0]
    assert (visits.id, visits.n) == ("visits", 10)
    assert visits.effective_n == pytest.approx(EFFECTIVE_N)
    assert visits.design_effect == pytest.approx(DESIGN_EFFECT)
    assert visits.values is not None
    yes, no = visits.values
    assert (yes.value, yes.label, yes.n, yes.share) == ("yes", "tak", 4, 0.4)
    assert yes.weighted_share == pytest.approx(YES_SHARE)
    assert yes.margin_of_error == pytest.approx(1.96 * math.sqrt(YES_SHARE * (1 - YES_SHARE) / EFFECTIVE_N))
    assert no.weighted_share == pytest.approx(1 - YES_SHARE)
    idea = results.questions[1]
    assert (idea.n, idea.values) == (10, None)  # free text is counted, never shared out
    strata = {(stratum.dimension, stratum.value): stratum for stratum in results.strata}
    oliwa, osowa = strata["district", "Oliwa"], strata["district", "Osowa"]
    assert (oliwa.contacted, oliwa.answered, oliwa.response_rate) == (5, 2, 0.4)
    assert (osowa.contacted, osowa.answered, osowa.response_rate) == (10, 8, 0.8)
    assert oliwa.weighted_share == pytest.approx(0.6)
    assert oliwa.population_share == pytest.approx(0.6)
    assert any("district=Oliwa has fewer than 10 answers" in warning for warning in results.warnings)
    assert any("'Mars'" in warning and "left out" in warning for warning in results.warnings)


async def test_an_unsampled_campaign_weighs_everyone_alike_within_a_district(services: Services) -> None:
    record = await answered_city(services, sampled=False)
    flow = services.definitions.flow(record)
    results = await weighted_results(services.sessions, record, flow, WeightingRequest("city", ("district",)), k=1)
    visits = results.questions[0]
    assert visits.values is not None
    # Oliwa 3 each (both yes), Osowa 0.5 each (2 yes of 8): (6 + 1) / 10.
    assert visits.values[0].weighted_share == pytest.approx(0.7)
    assert visits.effective_n == pytest.approx(100 / 20)


async def test_small_counts_of_strata_are_suppressed_with_their_complement(services: Services) -> None:
    record = await answered_city(services)
    flow = services.definitions.flow(record)
    results = await weighted_results(services.sessions, record, flow, WeightingRequest("city", ("district",)), k=5)
    strata = {stratum.value: stratum for stratum in results.strata}
    # Oliwa's 2 answers are fewer than 5; Osowa's 8 would give them away (the total is shown).
    assert strata["Oliwa"].answered is None and strata["Osowa"].answered is None
    assert strata["Oliwa"].response_rate is None and strata["Osowa"].response_rate is None
    assert strata["Osowa"].contacted == 10
    assert results.unmatched == {"district": {"Mars": None}}


async def test_raking_on_every_dimension_of_the_margins_when_none_is_named(services: Services) -> None:
    record = await answered_city(services)
    flow = services.definitions.flow(record)
    results = await weighted_results(services.sessions, record, flow, WeightingRequest("city"), k=1)
    assert (results.method, results.by) == ("raking", ["district", "age_band"])
    shares = {(stratum.dimension, stratum.value): stratum.weighted_share for stratum in results.strata}
    assert shares["district", "Oliwa"] == pytest.approx(0.6)
    assert shares["age_band", "65+"] == pytest.approx(0.5)


async def test_collapsing_and_trimming_are_passed_through_and_said(services: Services) -> None:
    record = await answered_city(services)
    flow = services.definitions.flow(record)
    request = WeightingRequest("city", ("district",), trim=1.5, collapse=parse_collapse(["district:Oliwa=Osowa"]))
    results = await weighted_results(services.sessions, record, flow, request, k=1)
    assert results.trim == 1.5
    assert {stratum.value: stratum.collapsed_into for stratum in results.strata} == {"Oliwa": "Osowa", "Osowa": None}
    assert any("district=Oliwa is weighted together with Osowa" in warning for warning in results.warnings)
    assert not any("district=Oliwa has fewer" in warning for warning in results.warnings)


async def test_thin_strata_left_unweighted_keep_their_share_of_the_sample_and_say_so(services: Services) -> None:
    """Both districts are thin (2 and 8 weighted respondents). Left unweighted, each is weighted to its
    share of the sample by base weight 1/π: Oliwa 2 of 14 (both π = 1), Osowa 12 of 14 (4 × 2 + 4 × 1),
    so every weight is 1/π × 10/14 and yes (Oliwa's two, Osowa's two at π = 0.5) is (1 + 1 + 2 + 2)/14."""
    record = await answered_city(services)
    flow = services.definitions.flow(record)
    request = WeightingRequest("city", ("district",), thin="leave")
    results = await weighted_results(services.sessions, record, flow, request, k=1)
    assert results.thin == "leave"
    visits = results.questions[0]
    assert visits.values is not None
    assert visits.values[0].value == "yes"
    assert visits.values[0].weighted_share == pytest.approx(6 / 14)
    assert visits.values[0].share == pytest.approx(0.4)  # unweighted: 4 of 10
    # Σw = 10, Σw² = 2 × (10/14)² + 4 × (20/14)² + 4 × (10/14)² = 2200/196: n_eff = 100 × 196 / 2200.
    assert visits.effective_n == pytest.approx(19600 / 2200)
    assert [(stratum.value, stratum.left_unweighted) for stratum in results.strata] == [
        ("Oliwa", True),
        ("Osowa", True),
    ]
    assert [stratum.weighted_share for stratum in results.strata] == pytest.approx([2 / 14, 12 / 14])
    assert (
        "district=Oliwa has fewer than 10 answers: left unweighted, as asked (--thin leave): weighted to its share"
        " of the sample (14.3%) instead of the population's (60.0%)"
    ) in results.warnings
    weighted = await weighted_results(services.sessions, record, flow, WeightingRequest("city", ("district",)), k=1)
    assert weighted.thin == "weight"
    assert not any(stratum.left_unweighted for stratum in weighted.strata)
    assert any(warning.endswith("or leave it unweighted with --thin leave") for warning in weighted.warnings)


async def test_unknown_margins_and_dimensions_are_located_errors(services: Services) -> None:
    record = await answered_city(services)
    flow = services.definitions.flow(record)
    with pytest.raises(MarginsError, match="no margins named 'town'; there are: city"):
        await weighted_results(services.sessions, record, flow, WeightingRequest("town"), k=1)
    with pytest.raises(MarginsError, match="unknown dimension 'sex'; margins 'city' have: age_band, district"):
        await weighted_results(services.sessions, record, flow, WeightingRequest("city", ("sex",)), k=1)


async def test_nobody_to_weight_is_a_clear_error(services: Services) -> None:
    record = await answered_city(services)
    flow = services.definitions.flow(record)
    other = record.model_copy(update={"id": record.id + 1 if record.id else 0})  # a campaign without answers
    with pytest.raises(WeightingError, match="no respondent can be weighted"):
        await weighted_results(services.sessions, other, flow, WeightingRequest("city"), k=1)


def test_a_malformed_collapse_says_how_to_write_it() -> None:
    with pytest.raises(ValueError, match="DIMENSION:VALUE=NEIGHBOUR"):
        parse_collapse(["district=Oliwa"])
    assert parse_collapse(["district: Oliwa = Osowa", "age_band:65+=45-64"]) == {
        "district": {"Oliwa": "Osowa"},
        "age_band": {"65+": "45-64"},
    }
