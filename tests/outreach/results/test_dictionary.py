"""The data dictionary of a weighted export describes its `weight` column: what it was weighted to
and what an empty weight means; an unweighted export's has no such field."""

from __future__ import annotations

from flows.loader import load_campaign
from outreach.results.dictionary import data_dictionary_model
from outreach.results.weighting_request import WeightingRequest
from tests.outreach.results.weighted_fixture import CAMPAIGN


def test_a_weighted_exports_dictionary_describes_the_weight_column_last() -> None:
    flow = load_campaign(CAMPAIGN)
    request = WeightingRequest("city", ("district", "age_band"), 5.0, {"district": {"Oliwa": "Osowa"}})
    weighted = data_dictionary_model(flow, ["district"], campaign="park", weighting=request)
    plain = data_dictionary_model(flow, ["district"], campaign="park")
    assert [field.name for field in weighted.fields] == [*(field.name for field in plain.fields), "weight"]
    weight = weighted.fields[-1]
    assert weight.type == "number, or empty (CSV) / null (JSON Lines)"
    assert "to the margins 'city' by district, age_band, capped at 5 times the mean weight" in weight.description
    assert "weighted together as asked: district=Oliwa with Osowa" in weight.description
    assert "Empty (null) for a respondent left out of the weighting" in weight.description
    every = data_dictionary_model(flow, weighting=WeightingRequest("city")).fields[-1]
    assert "by every dimension of the margins:" in every.description
    assert "capped" not in every.description
