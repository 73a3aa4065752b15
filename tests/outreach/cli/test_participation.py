"""`outreach coverage` and `outreach participation`: the JSON is the reports' (real values from the
hand-computed history), the tables say the figures an official reads, small groups are withheld and
bad input is one clean line."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner, Result

from outreach.bootstrap import Services
from outreach.cli.main import app
from outreach.survey.margins import Margins
from outreach.survey.margins_store import save_margins
from tests.factories import add_resident
from tests.outreach.participation.meter_fixture import FIRST_TIMERS, GINI, TOP_1, TOP_10, answered_history

RANGE = ["--since", "2027-01-01", "--until", "2027-02-28"]


async def invoke(cli: CliRunner, args: list[str]) -> Result:
    return await asyncio.to_thread(cli.invoke, app, args)


async def test_participation_json_holds_the_hand_computed_meter(
    cli: CliRunner, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTREACH_SMALL_CELL_K", "1")
    await answered_history(services)
    result = await invoke(cli, ["participation", *RANGE, "--format", "json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert (printed["since"], printed["until"], printed["k"]) == ("2027-01-01", "2027-02-28", 1)
    assert printed["top_1_percent"] == {"residents": 1, "share": pytest.approx(TOP_1), "suppressed": False}
    assert printed["top_10_percent"] == {"residents": 2, "share": pytest.approx(TOP_10), "suppressed": False}
    assert printed["gini"] == pytest.approx(GINI)
    assert {c["campaign"]: (c["respondents"], c["first_timers"]) for c in printed["campaigns"]} == FIRST_TIMERS
    assert [split["by"] for split in printed["splits"]] == ["channel", "district", "recruitment_source"]


async def test_participation_table_and_small_groups_withheld(cli: CliRunner, services: Services) -> None:
    await answered_history(services)  # k is 5 here: Telegram's 2 respondents are withheld, with SMS
    result = await invoke(cli, ["participation", *RANGE])
    assert result.exit_code == 0, result.output
    rows = {line.split("│")[1].strip(): line for line in result.stdout.splitlines() if line.count("│") > 4}
    # The top 1% and 10% are 1 and 2 residents, under k: withheld, saying how many.
    assert "– (1)" in rows["all"] and "– (2)" in rows["all"] and "0.23" in rows["all"]
    assert rows["channel=telegram"].split("│")[2].strip() == "–"
    assert "district=Oliwa" in rows and "0.32" in rows["district=Oliwa"]  # 11/34
    assert "66.7%" in result.stdout  # a: 4 first-timers of 6


async def test_participation_refuses_a_bad_range(cli: CliRunner) -> None:
    result = await invoke(cli, ["participation", "--since", "2027-02-01", "--until", "2027-01-01"])
    assert result.exit_code == 1
    assert "--since 2027-02-01 is after --until 2027-01-01" in result.stderr
    result = await invoke(cli, ["participation", "--since", "yesterday", "--until", "2027-01-01"])
    assert "--since must be a day like 2027-01-31" in result.stderr


CITY = Margins(
    name="city",
    dimensions={"district": {"oliwa": 3000.0, "osowa": 1000.0}},
    labels={("district", "oliwa"): "Oliwa", ("district", "osowa"): "Osowa"},
)


async def coverage_world(services: Services) -> None:
    async with services.sessions() as session, session.begin():
        await save_margins(session, CITY, source="test", now=datetime(2027, 1, 1, tzinfo=UTC))
    for number in range(6):
        await add_resident(
            services, phone=f"+4860040{number:04d}", district="Oliwa", recruited_via="import", recruitment_source="reg"
        )
    for number in range(2):
        await add_resident(
            services, telegram=str(9200 + number), district="Osowa", recruited_via="self-enrolment",
            recruitment_source="qr-bus-12",
        )  # fmt: skip


async def test_coverage_json_and_table(cli: CliRunner, services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTREACH_SMALL_CELL_K", "1")
    await coverage_world(services)
    result = await invoke(cli, ["coverage", "--margins", "city", "--format", "json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert (printed["residents"], printed["reachable"], printed["channels"]) == (8, 8, {"sms": 6, "telegram": 2})
    assert [(s["value"], s["reachable"], s["coverage"]) for s in printed["strata"]] == [
        ("Oliwa", 6, pytest.approx(0.002)),
        ("Osowa", 2, pytest.approx(0.002)),
    ]
    assert [(s["source"], s["strata"]["district"]) for s in printed["sources"]] == [
        ("reg", {"Oliwa": 6, "Osowa": 0}),
        ("qr-bus-12", {"Oliwa": 0, "Osowa": 2}),
    ]
    table = await invoke(cli, ["coverage", "--margins", "city"])
    assert table.exit_code == 0, table.output
    assert "district=Oliwa" in table.stdout and "0.20%" in table.stdout
    assert "qr-bus-12" in table.stdout and "district: Osowa 2" in table.stdout


async def test_coverage_withholds_small_counts_and_names_unknown_margins(cli: CliRunner, services: Services) -> None:
    await coverage_world(services)  # k = 5: Osowa's 2 are withheld, and Oliwa's 6 beside them
    result = await invoke(cli, ["coverage", "--margins", "city", "--format", "json"])
    printed = json.loads(result.stdout)
    assert [(s["value"], s["reachable"]) for s in printed["strata"]] == [("Oliwa", None), ("Osowa", None)]
    assert printed["sources"][1]["strata"]["district"]["Osowa"] is None
    unknown = await invoke(cli, ["coverage", "--margins", "nowhere"])
    assert unknown.exit_code == 1
    assert "no margins named 'nowhere'" in unknown.stderr


async def test_results_json_carries_the_campaigns_participation(
    cli: CliRunner, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTREACH_SMALL_CELL_K", "1")
    await answered_history(services)
    async with services.sessions() as session, session.begin():
        await save_margins(session, CITY, source="test", now=datetime(2027, 1, 1, tzinfo=UTC))
    result = await invoke(cli, ["results", "e", "--weights", "city", "--format", "json"])
    assert result.exit_code == 0, result.output
    part = json.loads(result.stdout)["participation"]
    assert part["meter"]["campaigns"] == [
        {"campaign": "e", "respondents": 6, "first_timers": 4, "first_timer_share": pytest.approx(4 / 6)}
    ]
    assert (part["meter"]["respondents"], part["meter"]["answers"]) == (6, 11)  # r1 5, r3 2, four 1s
    selection = part["sampled_vs_self_enrolled"]
    assert selection["respondents"] == {"sampled": 2, "self_enrolled": 4, "other": 0}
    assert selection["questions"][0]["difference"] == {"yes": pytest.approx(0.75), "no": pytest.approx(-0.75)}
