"""Population margins (pure): reading a margins file, located errors, shares, joint cells or
independence, and matching residents' values after folding."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from outreach.survey.margins import (
    Margins,
    MarginsError,
    cells_of,
    fold_value,
    margins_from_cells,
    parse_margins,
    unmatched_values,
)
from outreach.survey.margins_store import DEFAULT_MARGINS, default_margins

JOINT_CELLS = "the joint cells 'district×sex'"
# The package's copy of ../shared/data/gdansk_districts.csv (tests/outreach/demo/test_example.py checks the
# copy against the shared file where a checkout has it; CI's clean clone need not).
DISTRICTS = Path(__file__).parents[3] / "outreach" / "data" / "gdansk_districts.csv"
HEADER = "dimension,value,population\n"
# Two districts, two age bands and their joint cells (consistent), and sex from another source.
CITY = (
    HEADER
    + "district,Oliwa,100\n"
    + "district,Orunia Górna,300\n"
    + "age_band,18-29,100\n"
    + "age_band,30-44,300\n"
    + "district×age_band,Oliwa×18-29,40\n"
    + "district×age_band,Oliwa×30-44,60\n"
    + "district×age_band,Orunia Górna×18-29,60\n"
    + "district×age_band,Orunia Górna×30-44,240\n"
    + "sex,K,52.7\n"
    + "sex,M,47.3\n"
)


def _parse(text: str) -> tuple[Margins, list[str]]:
    return parse_margins(text, "city", "city.csv")


def _errors(text: str) -> list[str]:
    with pytest.raises(MarginsError) as raised:
        _parse(text)
    return [str(problem) for problem in raised.value.problems]


@pytest.mark.parametrize(
    ("written", "folded"),
    [
        ("Oliwa", "oliwa"),
        ("  ORUNIA   Górna ", "orunia gorna"),
        ("Łostowice", "lostowice"),
        ("Orunia-Św. Wojciech-Lipce", "orunia-sw. wojciech-lipce"),
        ("30 - 44", "30-44"),
        ("65+", "65+"),
        ("Київ", "київ"),
    ],
)
def test_values_fold_like_answers_and_spacing_does_not_count(written: str, folded: str) -> None:
    assert fold_value(written) == folded


def test_a_file_reads_into_populations_shares_and_labels() -> None:
    margins, _ = _parse(CITY)
    assert margins.name == "city"
    assert margins.dimensions["district"] == {"oliwa": 100.0, "orunia gorna": 300.0}
    assert margins.shares("district") == {"oliwa": 0.25, "orunia gorna": 0.75}
    assert margins.shares("sex") == pytest.approx({"k": 0.527, "m": 0.473})
    assert margins.label("district", "orunia gorna") == "Orunia Górna"
    assert margins.joint[("district", "age_band")][("orunia gorna", "30-44")] == 240.0


def test_dimensions_with_different_totals_are_scaled_to_shares_and_it_is_said() -> None:
    _, notes = _parse(CITY)
    assert notes == [
        "the dimensions have different totals (district 400, age_band 400, sex 100); each is scaled to shares"
    ]
    _, same = _parse(HEADER + "district,Oliwa,10\nsex,K,4\nsex,M,6\n")
    assert same == []


def test_joint_cells_are_used_where_the_file_has_them_and_independence_is_said_otherwise() -> None:
    margins, _ = _parse(CITY)
    read, assumed = margins.joint_shares(["age_band", "district"])  # either order of the joint's dimensions
    assert not assumed
    assert read == pytest.approx(
        {
            ("18-29", "oliwa"): 0.1,
            ("30-44", "oliwa"): 0.15,
            ("18-29", "orunia gorna"): 0.15,
            ("30-44", "orunia gorna"): 0.6,
        }
    )
    product, assumed = margins.joint_shares(["district", "sex"])
    assert assumed
    assert product == pytest.approx(
        {
            ("oliwa", "k"): 0.25 * 0.527,
            ("oliwa", "m"): 0.25 * 0.473,
            ("orunia gorna", "k"): 0.75 * 0.527,
            ("orunia gorna", "m"): 0.75 * 0.473,
        }
    )
    partly, assumed = margins.joint_shares(["sex", "district", "age_band"])  # joint cells × sex
    assert assumed
    assert partly[("m", "orunia gorna", "30-44")] == pytest.approx(0.473 * 0.6)
    assert sum(partly.values()) == pytest.approx(1.0)
    one, assumed = margins.joint_shares(["district"])
    assert (one, assumed) == ({("oliwa",): 0.25, ("orunia gorna",): 0.75}, False)


def test_a_dimension_given_only_in_joint_cells_is_summed_from_them() -> None:
    margins, notes = _parse(
        HEADER + "district×sex,Oliwa×K,30\ndistrict×sex,Oliwa×M,20\ndistrict×sex,Osowa×K,25\ndistrict×sex,Osowa×M,25\n"
    )
    assert margins.dimensions == {"district": {"oliwa": 50.0, "osowa": 50.0}, "sex": {"k": 55.0, "m": 45.0}}
    assert margins.label("district", "oliwa") == "Oliwa"
    assert notes == [
        "'district' has no margin of its own; it is summed from the joint cells 'district×sex'",
        "'sex' has no margin of its own; it is summed from the joint cells 'district×sex'",
    ]


def test_an_unknown_dimension_is_an_error_naming_those_there_are() -> None:
    margins, _ = _parse(CITY)
    with pytest.raises(
        MarginsError, match="unknown dimension 'language'; margins 'city' have: age_band, district, sex"
    ):
        margins.shares("language")
    with pytest.raises(MarginsError, match="unknown dimension 'language'"):
        margins.joint_shares(["district", "language"])
    with pytest.raises(MarginsError, match="named twice"):
        margins.joint_shares(["district", "district"])


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ("district,Oliwa,0\n", ["city.csv:2: the population of 'Oliwa' must be above zero, not 0"]),
        ("district,Oliwa,1\ndistrict,Osowa,-5\n", ["city.csv:3: the population of 'Osowa' must be above zero, not -5"]),
        ("district,Oliwa,many\n", ["city.csv:2: the population of 'Oliwa' is not a number: 'many'"]),
        ("district,Oliwa,nan\n", ["city.csv:2: the population of 'Oliwa' is not a number: 'nan'"]),
        ("district,Oliwa,1\ndistrict,OLIWA ,2\n", ["city.csv:3: duplicate value 'OLIWA' of 'district' (line 2)"]),
        (" ,Oliwa,1\n", ["city.csv:2: the dimension is empty"]),
        ("district,,1\n", ["city.csv:2: the value of 'district' is empty"]),
        ("district,Oliwa\n", ["city.csv:2: expected 3 fields (dimension,value,population), found 2"]),
        ("", ["city.csv: no margins: the file has a header but no rows"]),
        ("d" * 65 + ",Oliwa,1\n", ["city.csv:2: a dimension is longer than 64 characters (as an attribute's name)"]),
        ("district," + "O" * 201 + ",1\n", ["city.csv:2: a value of 'district' is longer than 200 characters"]),
        (
            "a×b×c," + "×".join(["v" * 150] * 3) + ",1\n",
            ["city.csv:2: a joint cell is longer than 400 characters in all"],
        ),
        (
            "district,Oliwa,0\n\nsex,K,1\nsex,K,2\n",  # every problem, each at its line
            [
                "city.csv:2: the population of 'Oliwa' must be above zero, not 0",
                "city.csv:5: duplicate value 'K' of 'sex' (line 4)",
            ],
        ),
    ],
)
def test_bad_rows_are_errors_at_their_lines(rows: str, expected: list[str]) -> None:
    assert _errors(HEADER + rows) == expected


def test_a_file_without_the_header_is_an_error_at_line_1() -> None:
    assert _errors("district,Oliwa,1\n") == [
        "city.csv:1: the header must be dimension,value,population (found district,Oliwa,1)"
    ]
    assert _errors("") == ["city.csv: the file is empty; it needs the header dimension,value,population"]
    margins, _ = _parse("\ufeffDimension, Value ,POPULATION\ndistrict,Oliwa,1\n")  # a BOM and loose spelling
    assert margins.shares("district") == {"oliwa": 1.0}


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (
            "district,Oliwa,10\ndistrict,Osowa,10\ndistrict×sex,Oliwa×K,5\ndistrict×sex,Oliwa×M,5\ndistrict×sex,Osowa×K,5\n",
            ["city.csv:4: the joint cells 'district×sex' miss osowa×m"],
        ),
        (
            "district,Oliwa,10\ndistrict×sex,Wrzeszcz×K,5\n",
            ["city.csv:3: 'wrzeszcz' is not a value of 'district' in this file"],
        ),
        (
            "district×sex,Oliwa,5\n",
            ["city.csv:2: the joint value 'Oliwa' needs one value per dimension of 'district×sex'"],
        ),
        (
            "district×district,Oliwa×Oliwa,5\n",
            ["city.csv:2: a joint dimension names each dimension once: 'district×district'"],
        ),
        (
            "district×sex,Oliwa×K,5\ndistrict×sex,oliwa × k,5\n",
            ["city.csv:3: duplicate joint cell 'oliwa × k' (line 2)"],
        ),
        (
            "district,Oliwa,50\ndistrict,Osowa,50\ndistrict×sex,Oliwa×K,30\ndistrict×sex,Oliwa×M,30\n"
            "district×sex,Osowa×K,20\ndistrict×sex,Osowa×M,20\n",
            [
                f"city.csv:2: the margins do not sum: 'Oliwa' is 50.0% of 'district' here but 60.0% in {JOINT_CELLS}",
                f"city.csv:3: the margins do not sum: 'Osowa' is 50.0% of 'district' here but 40.0% in {JOINT_CELLS}",
            ],
        ),
    ],
)
def test_joint_cells_must_name_known_values_cover_every_combination_and_sum(rows: str, expected: list[str]) -> None:
    assert _errors(HEADER + rows) == expected


def test_joint_cells_may_differ_from_the_margins_by_rounding() -> None:
    rows = "district,Oliwa,5020\ndistrict,Osowa,4980\ndistrict×sex,Oliwa×K,25\ndistrict×sex,Oliwa×M,25\n"
    rows += "district×sex,Osowa×K,25\ndistrict×sex,Osowa×M,25\n"  # 50.2% against 50%: within half a point
    margins, _ = _parse(HEADER + rows)
    assert margins.joint_shares(["district", "sex"])[1] is False


def test_residents_values_matching_no_margin_are_counted_per_value() -> None:
    margins, _ = _parse(CITY)
    counts = {"Oliwa": 5, "OLIWA": 1, "orunia  gorna": 2, "Wrzeszcz": 2, "wrzeszcz ": 1, None: 1, "Osowa": 1, "": 1}
    unmatched = unmatched_values(margins, "district", counts)
    assert list(unmatched.items()) == [("Wrzeszcz", 3), ("", 2), ("Osowa", 1)]  # the most first
    assert unmatched_values(margins, "district", {"Oliwa": 3}) == {}
    assert unmatched_values(margins, "language", {"pl": 3}) == {"pl": 3}  # a dimension the margins lack


def test_cells_give_back_the_same_margins() -> None:
    margins, _ = _parse(CITY)
    again = margins_from_cells("city", cells_of(margins))
    assert again == margins
    assert again.label("district×age_band", "orunia gorna×30-44") == "Orunia Górna×30-44"


def test_the_default_margins_are_the_shared_district_list_converted() -> None:
    with DISTRICTS.open(encoding="utf-8") as source:
        districts = {row["district"]: float(row["population"]) for row in csv.DictReader(source)}
    margins = default_margins()
    assert margins.name == DEFAULT_MARGINS == "gdansk-districts"
    assert list(margins.dimensions) == ["district"]
    assert {
        margins.label("district", value): population for value, population in margins.dimensions["district"].items()
    } == districts
    assert (len(districts), margins.total("district")) == (35, 490_301)


def test_age_bands_must_be_the_settings_and_are_kept_as_its_labels() -> None:
    bands = ["18-29", "30-44", "45-64", "65+"]
    rows = "age_band,18 - 29,10\nage_band,30–44,20\nage_band,45-64,30\ndistrict×age_band,Oliwa×30 - 44,20\n"
    rows += "district×age_band,Oliwa×18-29,10\ndistrict×age_band,Oliwa×45-64,30\n"
    margins, notes = parse_margins(HEADER + rows, "city", "city.csv", age_bands=bands)
    assert list(margins.dimensions["age_band"]) == ["18-29", "30-44", "45-64"]
    assert ("oliwa", "30-44") in margins.joint[("district", "age_band")]
    assert margins.label("age_band", "30-44") == "30–44"  # as written
    assert "age_band has no population for 65+ (OUTREACH_AGE_BANDS)" in notes
    with pytest.raises(MarginsError) as raised:
        parse_margins(HEADER + "age_band,18-24,5\nsex×age_band,K×45-59,5\n", "city", "city.csv", age_bands=bands)
    assert [str(problem) for problem in raised.value.problems] == [
        "city.csv:2: '18-24' is not one of the age bands 18-29, 30-44, 45-64, 65+ (OUTREACH_AGE_BANDS)",
        "city.csv:3: '45-59' is not one of the age bands 18-29, 30-44, 45-64, 65+ (OUTREACH_AGE_BANDS)",
    ]
