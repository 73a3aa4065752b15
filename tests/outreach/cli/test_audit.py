"""`outreach audit`: every command an operator gives that the audit log records, read back with the
operator's OS user name, filtered by action and time."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from outreach.bootstrap import Services
from tests.outreach.cli.invoking import invoke
from tests.outreach.helpers import CAMPAIGN_YAML

DATA = Path(__file__).parents[1] / "data"


@pytest.fixture
def operator(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("LOGNAME", "anna.kowalska")  # what getpass reads first
    assert getpass.getuser() == "anna.kowalska"
    return "anna.kowalska"


# (command, the entry it adds: action and target)
COMMANDS: list[tuple[list[str], str, str]] = [
    (["residents", "import", str(DATA / "residents.csv")], "residents.import", "residents"),
    (["campaign", "create", "{file}"], "campaign.create", "campaign 1"),
    (["campaign", "launch", "1"], "campaign.launch", "campaign 1"),
    (["campaign", "pause", "1"], "campaign.pause", "campaign 1"),
    (["campaign", "resume", "1"], "campaign.resume", "campaign 1"),
    (["export", "1", "--format", "jsonl", "-o", "answers.jsonl"], "export", "campaign 1"),
    (["export", "1", "--format", "flow-results", "-o", "package.zip"], "export", "campaign 1"),
    (["token", "create", "--scope", "campaigns:read", "--label", "portal"], "token.create", "token 1"),
    (["token", "revoke", "1"], "token.revoke", "token 1"),
    (["campaign", "close", "1"], "campaign.close", "campaign 1"),
]


async def test_each_recorded_command_is_read_back_with_the_operator_newest_first(
    cli: CliRunner, services: Services, operator: str, tmp_path: Path
) -> None:
    campaign_file = tmp_path / "tram.yaml"
    campaign_file.write_text(CAMPAIGN_YAML, encoding="utf-8")
    for args, _, _ in COMMANDS:
        given = await invoke(cli, [str(campaign_file) if arg == "{file}" else arg for arg in args])
        assert given.exit_code in (0, 2), given.output  # 2: the residents file has rows it rejects
    listed = await invoke(cli, ["audit"])
    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.splitlines()
    assert len(lines) == len(COMMANDS)
    for line, (_, action, target) in zip(lines, reversed(COMMANDS), strict=True):
        assert f"  cli:{operator}  {action}  {target}" in line, line
    assert "+48" not in listed.stdout and "@" not in listed.stdout  # the import's rows stay out of it
    assert '"format":"flow-results"' in lines[-7] and '"status":"closed"' in lines[0]


async def test_audit_filters_by_action_and_since(
    cli: CliRunner, services: Services, operator: str, tmp_path: Path
) -> None:
    campaign_file = tmp_path / "tram.yaml"
    campaign_file.write_text(CAMPAIGN_YAML, encoding="utf-8")
    await invoke(cli, ["campaign", "create", str(campaign_file)])
    await invoke(cli, ["token", "create", "--scope", "admin"])
    await invoke(cli, ["campaign", "create", str(campaign_file)])

    campaigns = (await invoke(cli, ["audit", "--action", "campaign."])).stdout.splitlines()
    assert [line.split("  ")[4] for line in campaigns] == ["campaign 2", "campaign 1"]
    tokens = (await invoke(cli, ["audit", "--action", "token.create"])).stdout.splitlines()
    assert len(tokens) == 1 and "token 1" in tokens[0]
    # The commands ran on the wall clock (the CLI wires its own services).
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    assert len((await invoke(cli, ["audit", "--since", yesterday])).stdout.splitlines()) == 3
    in_an_hour = (datetime.now(UTC) + timedelta(hours=1)).isoformat(timespec="minutes")
    assert "no audit entries match" in (await invoke(cli, ["audit", "--since", in_an_hour])).stdout
    assert "no audit entries match" in (await invoke(cli, ["audit", "--action", "resident.erase"])).stdout
    refused = await invoke(cli, ["audit", "--since", "last week"])
    assert refused.exit_code == 1 and "--since takes a day" in refused.stderr
