"""`outreach results` and `outreach export` weighted (--weights, --by, --trim, --collapse): the JSON is
the results builder's, the table shows weighted shares with margins of error, the export gains a
weight per respondent, and bad input is one located line."""

from __future__ import annotations

import asyncio
import csv
import io
import json

import pytest
from typer.testing import CliRunner, Result

from outreach.bootstrap import Services
from outreach.cli.main import app
from outreach.results.weighted import weighted_results
from outreach.results.weighting_request import WeightingRequest
from tests.outreach.results.weighted_fixture import YES_SHARE, answered_city


async def invoke(cli: CliRunner, args: list[str]) -> Result:
    return await asyncio.to_thread(cli.invoke, app, args)


async def test_json_is_the_weighted_results(cli: CliRunner, services: Services) -> None:
    record = await answered_city(services)
    result = await invoke(cli, ["results", record.slug, "--weights", "city", "--by", "district", "--format", "json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    flow = services.definitions.flow(record)
    k = services.settings.small_cell_k
    expected = await weighted_results(services.sessions, record, flow, WeightingRequest("city", ("district",)), k=k)
    free_text = printed.pop(
        "free_text"
    )  # the text question's answers grouped (tests/outreach/results/test_free_text.py)
    assert [(question["id"], question["answered"]) for question in free_text] == [("idea", 11)]
    assert printed.pop("participation")["meter"]["respondents"] == 11  # tests/outreach/cli/test_participation.py
    assert printed == json.loads(expected.model_dump_json())
    assert (printed["margins"], printed["method"]) == ("city", "post-stratification")
    assert printed["questions"][0]["values"][0]["weighted_share"] == pytest.approx(YES_SHARE)


async def test_json_without_weights_is_the_unweighted_results(cli: CliRunner, services: Services) -> None:
    record = await answered_city(services)
    result = await invoke(cli, ["results", record.slug, "--format", "json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert [question["id"] for question in printed["free_text"]] == ["idea"]
    results = {key: printed[key] for key in ("campaign", "contacted", "respondents", "response_rate", "questions")}
    # 16 asked, 11 answered (Mars too: unweighted results leave nobody out); 5 yes, 6 no.
    assert results == {
        "campaign": record.slug,
        "contacted": 16,
        "respondents": 11,
        "response_rate": pytest.approx(11 / 16),
        "questions": [
            {
                "id": "visits",
                "type": "yesno",
                "answered": 11,
                "unanswered": 0,
                "counts": {"yes": 5, "no": 6},
                "mean": None,
                "median": None,
                "min": None,
                "max": None,
            },
            {
                "id": "idea",
                "type": "text",
                "answered": 11,
                "unanswered": 0,
                "counts": None,
                "mean": None,
                "median": None,
                "min": None,
                "max": None,
            },
        ],
    }


async def test_the_table_shows_weighted_shares_margins_of_error_and_warnings(
    cli: CliRunner, services: Services
) -> None:
    record = await answered_city(services)
    result = await invoke(cli, ["results", record.slug, "--weights", "city", "--by", "district"])
    assert result.exit_code == 0, result.output
    assert "post-stratification" in result.stdout
    assert "73.3%" in result.stdout  # yes, weighted
    assert "40.0%" in result.stdout  # yes, raw
    assert "± 39.0 pt" in result.stdout  # 1.96·sqrt(0.733·0.267/4.945)
    assert "district=Oliwa has fewer than 10 answers" in result.stdout


async def test_trim_and_collapse_are_taken(cli: CliRunner, services: Services) -> None:
    record = await answered_city(services)
    args = ["results", record.slug, "--weights", "city", "--by", "district", "--format", "json"]
    result = await invoke(cli, [*args, "--trim", "1.5", "--collapse", "district:Oliwa=Osowa"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["trim"] == 1.5
    assert [stratum["collapsed_into"] for stratum in printed["strata"]] == ["Osowa", None]


async def test_thin_strata_are_left_unweighted_when_asked_and_it_says_so(cli: CliRunner, services: Services) -> None:
    record = await answered_city(services)
    args = ["results", record.slug, "--weights", "city", "--by", "district", "--thin", "leave"]
    table = await invoke(cli, args)
    assert table.exit_code == 0, table.output
    assert table.stdout.count("(left unweighted)") == 2  # both districts, marked in the strata table
    assert "14.3%" in table.stdout  # Oliwa weighted to its share of the sample: 2 of 14
    assert "42.9%" in table.stdout  # yes, weighted: 6/14 (tests/outreach/results/test_weighted.py)
    assert "left unweighted, as asked (--thin leave)" in " ".join(table.stdout.split())  # however it wraps
    printed = json.loads((await invoke(cli, [*args, "--format", "json"])).stdout)
    assert printed["thin"] == "leave"
    assert [stratum["left_unweighted"] for stratum in printed["strata"]] == [True, True]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--weights", "town"], "no margins named 'town'; there are: city"),
        (["--weights", "city", "--by", "district,sex"], "unknown dimension 'sex'; margins 'city' have: age_band"),
        (["--by", "district"], "name the margins with --weights NAME"),
        (["--weights", "city", "--collapse", "Oliwa=Osowa"], "DIMENSION:VALUE=NEIGHBOUR"),
        (["--weights", "city", "--trim", "0.5"], "trim must be more than 1"),
        (["--weights", "city", "--thin", "drop"], "thin 'drop': use weight or leave"),
        (["--thin", "leave"], "name the margins with --weights NAME"),
    ],
)
async def test_bad_weighting_is_one_clean_line(
    cli: CliRunner, services: Services, args: list[str], message: str
) -> None:
    record = await answered_city(services)
    result = await invoke(cli, ["results", record.slug, *args])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


async def test_a_weighted_export_has_each_respondents_weight(cli: CliRunner, services: Services) -> None:
    record = await answered_city(services)
    result = await invoke(cli, ["export", record.slug, "--weights", "city", "--by", "district"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    weights = {row["respondent"]: row["weight"] for row in rows if row["question"] == "visits"}
    assert len(weights) == 11
    by_weight = sorted(round(float(weight), 6) for weight in weights.values() if weight)
    assert by_weight == [round(1 / 3, 6)] * 4 + [round(2 / 3, 6)] * 4 + [3.0, 3.0]
    assert list(weights.values()).count("") == 1  # Mars: left out of the weighting
    # Every answer of a respondent carries the same weight.
    assert all(row["weight"] == weights[row["respondent"]] for row in rows)
    plain = await invoke(cli, ["export", record.slug])
    assert "weight" not in plain.stdout.splitlines()[0]


async def test_the_dictionary_of_a_weighted_export_describes_its_weight(cli: CliRunner, services: Services) -> None:
    record = await answered_city(services)
    result = await invoke(cli, ["export", record.slug, "--dictionary", "--weights", "city", "--by", "district"])
    assert result.exit_code == 0, result.output
    fields = json.loads(result.stdout)["fields"]
    assert fields[-1]["name"] == "weight"
    assert "to the margins 'city' by district:" in fields[-1]["description"]
    plain = json.loads((await invoke(cli, ["export", record.slug, "--dictionary"])).stdout)
    assert "weight" not in [field["name"] for field in plain["fields"]]
