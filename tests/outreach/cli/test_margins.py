"""`outreach margins import | list | show`: located errors, versions, notes, and residents whose value
matches no margin, counted."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from outreach.bootstrap import Services
from outreach.survey.margins_store import load_margins
from tests.factories import add_resident
from tests.outreach.cli.invoking import invoke

CITY = (
    "dimension,value,population\n"
    "district,Oliwa,22431\n"
    "district,Orunia Górna-Gdańsk Południe,30000\n"
    "age_band,18-29,100\n"
    "age_band,30 - 44,300\n"
)


def _file(tmp_path: Path, text: str, name: str = "city.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


async def test_import_saves_a_version_says_what_it_scaled_and_show_prints_it(
    cli: CliRunner, services: Services, tmp_path: Path
) -> None:
    imported = await invoke(cli, ["margins", "import", str(_file(tmp_path, CITY)), "--name", "city"])
    assert imported.exit_code == 0, imported.output
    assert "margins 'city' version 1 saved: district (2 values), age_band (2 values)" in imported.stdout
    assert imported.stderr.splitlines() == [
        "note: age_band has no population for 45-64, 65+ (OUTREACH_AGE_BANDS)",
        "note: the dimensions have different totals (district 52,431, age_band 400); each is scaled to shares",
    ]
    async with services.sessions() as session:
        margins = await load_margins(session, "city")
    assert list(margins.dimensions["age_band"]) == ["18-29", "30-44"]
    again = await invoke(cli, ["margins", "import", str(_file(tmp_path, CITY, "city-2027.csv")), "--name", "city"])
    assert "margins 'city' version 2 saved" in again.stdout

    shown = await invoke(cli, ["margins", "show", "city"])
    assert shown.exit_code == 0, shown.output
    lines = [line.rstrip() for line in shown.stdout.splitlines()]
    assert lines[0].startswith("city: version 2, from city-2027.csv, imported ")
    assert "district: 2 values, population 52,431" in lines
    assert "  Orunia Górna-Gdańsk Południe        30,000   57.2%" in lines
    assert "  30 - 44           300   75.0%" in lines  # the label as written


async def test_bad_rows_are_named_by_line_and_nothing_is_saved(cli: CliRunner, tmp_path: Path) -> None:
    bad = CITY + "district,Oliwa,5\nage_band,50-64,10\nsex,K,0\n"
    result = await invoke(cli, ["margins", "import", str(_file(tmp_path, bad)), "--name", "city"])
    assert result.exit_code == 2
    path = tmp_path / "city.csv"
    assert result.stderr.splitlines() == [
        f"{path}:6: duplicate value 'Oliwa' of 'district' (line 2)",
        f"{path}:7: '50-64' is not one of the age bands 18-29, 30-44, 45-64, 65+ (OUTREACH_AGE_BANDS)",
        f"{path}:8: the population of 'K' must be above zero, not 0",
    ]
    listed = await invoke(cli, ["margins", "list"])
    assert "no margins yet" in listed.stdout


async def test_a_file_that_cannot_be_read_or_a_bad_name_is_one_line(cli: CliRunner, tmp_path: Path) -> None:
    latin2 = tmp_path / "latin2.csv"
    latin2.write_bytes("dimension,value,population\ndistrict,Śródmieście,1\n".encode("iso-8859-2"))
    cases = [
        (["margins", "import", str(latin2), "--name", "city"], f"{latin2}: the file is not UTF-8 (byte 36)"),
        (["margins", "import", str(tmp_path / "none.csv"), "--name", "city"], "cannot read the file"),
        (["margins", "import", str(latin2), "--name", "a city"], "--name must be 1 to 80 of A-Z a-z 0-9 . _ -"),
        (["margins", "show", "town"], "no margins named 'town'; there are: none"),
    ]
    for args, message in cases:
        result = await invoke(cli, args)
        assert result.exit_code == 1, args
        assert message in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


async def test_list_names_the_latest_version_of_each(cli: CliRunner, tmp_path: Path) -> None:
    for name in ("city", "city", "age"):
        await invoke(cli, ["margins", "import", str(_file(tmp_path, CITY)), "--name", name])
    lines = (await invoke(cli, ["margins", "list"])).stdout.splitlines()
    assert [re.split(r"\s{2,}", line)[:3] for line in lines] == [
        ["age", "version 1", "4 cells"],
        ["city", "version 2", "4 cells"],
    ]


async def test_residents_whose_value_matches_no_margin_are_counted_per_value(
    cli: CliRunner, services: Services, tmp_path: Path
) -> None:
    residents = [("OLIWA", "30-44"), ("orunia górna - gdańsk południe", "65+"), ("Wrzeszcz", "18-29")]
    residents += [("Wrzeszcz", "18-29"), ("Osowa", "18-29")]
    for number, (district, age_band) in enumerate(residents):
        await add_resident(services, phone=f"+4860010030{number}", district=district, age_band=age_band)
    await add_resident(services, phone="+48600100399", sex="K")  # no district, no age band
    result = await invoke(cli, ["margins", "import", str(_file(tmp_path, CITY)), "--name", "city"])
    assert result.stderr.splitlines()[2:] == [
        "residents whose district matches no margin (4): Wrzeszcz 2, (none) 1, Osowa 1",
        "residents whose age_band matches no margin (2): (none) 1, 65+ 1",
    ]
    shown = await invoke(cli, ["margins", "show", "city"])
    assert "residents whose district matches no margin (4): Wrzeszcz 2, (none) 1, Osowa 1" in shown.stderr


async def test_show_prints_joint_cells_with_their_shares(cli: CliRunner, tmp_path: Path) -> None:
    joint = "dimension,value,population\ndistrict×sex,Oliwa×K,30\ndistrict×sex,Oliwa×M,20\n"
    joint += "district×sex,Osowa×K,25\ndistrict×sex,Osowa×M,25\n"
    imported = await invoke(cli, ["margins", "import", str(_file(tmp_path, joint)), "--name", "joint"])
    assert "saved: district (2 values), sex (2 values), joint cells district×sex" in imported.stdout
    assert (
        "note: 'district' has no margin of its own; it is summed from the joint cells 'district×sex'" in imported.stderr
    )
    lines = [line.rstrip() for line in (await invoke(cli, ["margins", "show", "joint"])).stdout.splitlines()]
    assert "district: 2 values, population 100" in lines
    assert "district×sex: 4 joint cells, population 100" in lines
    assert "  Oliwa×K            30   30.0%" in lines
