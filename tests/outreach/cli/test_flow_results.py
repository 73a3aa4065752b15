"""`outreach export CAMPAIGN --format flow-results`: the package as a directory, a .zip file or a zip
on standard output, the same package the API gives, valid by every check."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from outreach.bootstrap import Services
from tests.outreach.cli.invoking import invoke
from tests.outreach.results.flow_results_checks import checked_package, unzip
from tests.outreach.web.api.helpers import seeded_survey


async def test_the_package_as_a_directory_a_zip_and_on_standard_output(
    cli: CliRunner, services: Services, tmp_path: Path
) -> None:
    await seeded_survey(services)
    result = await invoke(cli, ["export", "park-orunski", "--format", "flow-results", "-o", str(tmp_path / "package")])
    assert result.exit_code == 0, result.output
    descriptor, rows = checked_package(tmp_path / "package")
    assert len(rows) == 9 and descriptor["name"] == "park-orunski"

    result = await invoke(cli, ["export", "park-orunski", "--format", "flow-results", "-o", str(tmp_path / "p.zip")])
    assert result.exit_code == 0, result.output
    assert unzip((tmp_path / "p.zip").read_bytes(), tmp_path / "zipped") == ["datapackage.json", "responses.json"]
    assert checked_package(tmp_path / "zipped") == (descriptor, rows)

    result = await invoke(cli, ["export", "park-orunski", "--format", "flow-results"])
    assert result.exit_code == 0, result.output
    unzip(result.stdout_bytes, tmp_path / "stdout")
    assert checked_package(tmp_path / "stdout") == (descriptor, rows)


async def test_a_package_is_never_written_over_files_nor_weighted(
    cli: CliRunner, services: Services, tmp_path: Path
) -> None:
    await seeded_survey(services)
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine", encoding="utf-8")
    result = await invoke(cli, ["export", "park-orunski", "--format", "flow-results", "-o", str(tmp_path / "taken")])
    assert result.exit_code == 1 and "is not an empty directory" in result.stderr
    assert [path.name for path in (tmp_path / "taken").iterdir()] == ["notes.txt"]
    result = await invoke(cli, ["export", "park-orunski", "--format", "flow-results", "--weights", "city"])
    assert result.exit_code == 1 and "a Flow Results package has neither" in result.stderr
