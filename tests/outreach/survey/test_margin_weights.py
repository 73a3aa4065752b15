from __future__ import annotations

import pytest

from outreach.survey.margin_weights import weigh
from outreach.survey.margins import Margins, MarginsError
from outreach.survey.weighting_error import WeightingError
from outreach.survey.weights import base_weights, post_stratify, rake

LABELS = {
    ("district", "srodmiescie"): "Śródmieście",
    ("district", "oliwa"): "Oliwa",
    ("district", "letnica"): "Letnica",
    ("district", "osowa"): "Osowa",
}
DISTRICTS = {"srodmiescie": 300.0, "oliwa": 200.0, "letnica": 50.0, "osowa": 450.0}
AGES = {"18-29": 400.0, "65+": 600.0}
CITY = Margins("city", {"district": DISTRICTS, "age_band": AGES}, {}, LABELS)

# Eight respondents, their districts written as residents typed them.
WRITTEN = ["ŚRÓDMIEŚCIE", " oliwa", "Osowa", "Letnica", "Śródmieście", "Osowa", "osowa", "Oliwa"]
FOLDED = ["srodmiescie", "oliwa", "osowa", "letnica", "srodmiescie", "osowa", "osowa", "oliwa"]
AGE_OF = ["18-29", "65+", "65+", "18-29", "65+", "18-29", "65+", "65+"]


def test_one_dimension_is_post_stratified_on_folded_values() -> None:
    weighted = weigh(CITY, ["district"], {"district": WRITTEN})
    expected = post_stratify(FOLDED, DISTRICTS).values
    assert weighted.weights.values == pytest.approx(expected)
    assert (weighted.margins, weighted.by, weighted.method, weighted.joint) == (
        "city",
        ("district",),
        "post-stratification",
        False,
    )
    # Śródmieście: 2 of 8 respondents for 30% of the city.
    assert weighted.weights.values[0] == pytest.approx(0.3 * 8 / 2)


def test_several_dimensions_are_raked_and_inclusion_probabilities_are_the_base() -> None:
    probabilities = [0.5, 0.25, 0.5, 0.5, 0.25, 0.5, 0.5, 0.25]
    weighted = weigh(CITY, ["district", "age_band"], {"district": WRITTEN, "age_band": AGE_OF}, probabilities)
    expected = rake(
        {"district": FOLDED, "age_band": AGE_OF}, {"district": DISTRICTS, "age_band": AGES}, base_weights(probabilities)
    )
    assert weighted.weights.values == pytest.approx(expected.values)
    assert (weighted.method, weighted.joint, weighted.weights.dimensions) == ("raking", False, ("district", "age_band"))


def test_joint_cells_in_the_file_are_post_stratified_on() -> None:
    cells: dict[tuple[str, ...], float] = {
        ("18-29", "oliwa"): 1.0,
        ("18-29", "osowa"): 1.0,
        ("65+", "oliwa"): 1.0,
        ("65+", "osowa"): 5.0,
    }
    districts = {"oliwa": 200.0, "osowa": 450.0}
    margins = Margins("pair", {"district": districts, "age_band": AGES}, {("age_band", "district"): cells}, LABELS)
    attributes = {
        "district": ["Oliwa", "osowa", "OSOWA", "Oliwa", "Osowa"],
        "age_band": ["18-29", "18-29", "65+", "65+", "65+"],
    }
    weighted = weigh(margins, ["district", "age_band"], attributes)
    assert (weighted.method, weighted.joint, weighted.by) == ("post-stratification", True, ("district", "age_band"))
    # Osowa×65+ holds 5 of the 8 population units and 2 of the 5 respondents; Oliwa×18-29 1 and 1.
    assert list(weighted.weights.values) == pytest.approx([5 / 8, 5 / 8, 5 / 8 * 5 / 2, 5 / 8, 5 / 8 * 5 / 2])
    without_first = {dimension: values[1:] for dimension, values in attributes.items()}
    with pytest.raises(WeightingError, match=r"no respondent has district×age_band=Oliwa×18-29"):
        weigh(margins, ["district", "age_band"], without_first)


def test_an_empty_value_names_itself_as_written_and_collapsing_it_into_a_neighbour_weights_the_rest() -> None:
    without_letnica = {"district": [d for d in WRITTEN if d != "Letnica"]}
    with pytest.raises(WeightingError, match=r"no respondent has district=Letnica.*collapse"):
        weigh(CITY, ["district"], without_letnica)
    weighted = weigh(CITY, ["district"], without_letnica, collapse={"district": {"letnica": "OLIWA"}})
    assert weighted.collapsed == {"district": (("Letnica", "Oliwa"),)}
    # Oliwa + Letnica: 25% of the city, 2 of the 7 respondents.
    assert weighted.weights.values[1] == pytest.approx(0.25 * 7 / 2)
    with_letnica = weigh(CITY, ["district"], {"district": WRITTEN}, collapse={"district": {"Letnica": "Oliwa"}})
    assert with_letnica.weights.values[3] == with_letnica.weights.values[1]  # one group now


def test_values_the_margins_lack_are_shown_as_written() -> None:
    with pytest.raises(WeightingError, match=r"2 respondents have a value of district .*Brzeźno \(1\), \(none\) \(1\)"):
        weigh(CITY, ["district"], {"district": ["Oliwa", " Brzeźno ", None]})


def test_bad_requests_are_refused() -> None:
    with pytest.raises(MarginsError, match="unknown dimension 'sex'; margins 'city' have: age_band, district"):
        weigh(CITY, ["sex"], {"sex": ["f"]})
    with pytest.raises(WeightingError, match="no dimension to weight on"):
        weigh(CITY, [], {})
    with pytest.raises(WeightingError, match="no values for age_band"):
        weigh(CITY, ["age_band"], {"district": WRITTEN})
    with pytest.raises(WeightingError, match="cannot collapse district=Brzeźno: margins 'city' lack it"):
        weigh(CITY, ["district"], {"district": WRITTEN}, collapse={"district": {"Brzeźno": "Oliwa"}})
    with pytest.raises(WeightingError, match="into itself"):
        weigh(CITY, ["district"], {"district": WRITTEN}, collapse={"district": {"Oliwa": "oliwa"}})
    with pytest.raises(WeightingError, match="Oliwa is collapsed itself: collapse Letnica into the value it joins"):
        weigh(CITY, ["district"], {"district": WRITTEN}, collapse={"district": {"Letnica": "Oliwa", "Oliwa": "Osowa"}})
    with pytest.raises(WeightingError, match="not among the dimensions weighted on"):
        weigh(CITY, ["district"], {"district": WRITTEN}, collapse={"age_band": {"65+": "18-29"}})
