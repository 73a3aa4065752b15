"""`outreach campaign launch` keeps the two-person rule at the console: over
OUTREACH_ADMIN_APPROVAL_THRESHOLD it says how to get an approval, `request-launch` and `approve` act
for officials named with `--as`, and nobody approves their own request."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from outreach.bootstrap import Services
from outreach.cli.main import app
from outreach.officials.accounts import account_policy, add_official
from storage.audit import AuditFilter, AuditRepository
from storage.db import read_session
from tests.factories import add_resident
from tests.outreach.helpers import CAMPAIGN_YAML

EDITOR = "ewa@gdansk.gda.pl"
APPROVER = "adam@gdansk.gda.pl"


@pytest.fixture(autouse=True)
def threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTREACH_ADMIN_APPROVAL_THRESHOLD", "1")
    monkeypatch.setenv("LOGNAME", "operator")


async def invoke(cli: CliRunner, args: list[str]) -> Result:
    return await asyncio.to_thread(cli.invoke, app, args)


async def test_a_large_launch_at_the_cli_needs_another_officials_approval(
    cli: CliRunner, services: Services, tmp_path: Path
) -> None:
    for number in range(2):
        await add_resident(services, phone=f"+4860010040{number}")
    policy = account_policy(services.settings)
    for email, role in ((EDITOR, "editor"), (APPROVER, "approver")):
        await add_official(services.sessions, email, role, now=services.clock(), policy=policy)
    campaign_file = tmp_path / "tram.yaml"
    campaign_file.write_text(CAMPAIGN_YAML, encoding="utf-8")
    assert (await invoke(cli, ["campaign", "create", str(campaign_file)])).exit_code == 0

    refused = await invoke(cli, ["campaign", "launch", "tramwaj-na-morene"])
    said = " ".join(refused.output.split())
    assert refused.exit_code == 1, refused.output
    assert "would ask 2 residents, more than OUTREACH_ADMIN_APPROVAL_THRESHOLD (1)" in said
    assert "outreach campaign request-launch tramwaj-na-morene --as" in said

    asked = await invoke(cli, ["campaign", "request-launch", "tramwaj-na-morene", "--as", EDITOR])
    assert asked.exit_code == 0, asked.output
    assert "launch request 1 for 'tramwaj-na-morene' (2 residents) is waiting for one of 1 approvers" in " ".join(
        asked.output.split()
    )
    own = await invoke(cli, ["campaign", "approve", "1", "--as", EDITOR])
    assert own.exit_code == 1 and "only an approver or an admin approves" in " ".join(own.output.split())

    approved = await invoke(cli, ["campaign", "approve", "1", "--as", APPROVER, "--comment", "ok"])
    assert approved.exit_code == 0 and "launch request 1 approved" in approved.output, approved.output
    launched = await invoke(cli, ["campaign", "launch", "tramwaj-na-morene"])
    assert launched.exit_code == 0 and "active: 2 conversations started" in launched.output, launched.output

    async with read_session(services.sessions) as session:
        entries = await AuditRepository(session).page(AuditFilter(action="launch."), before_id=None, limit=10)
    assert [(entry.action, entry.actor_label) for entry in reversed(entries)] == [
        ("launch.refused", "operator"),
        ("launch.request", f"{EDITOR} (cli: operator)"),
        ("launch.approve", f"{APPROVER} (cli: operator)"),
    ]
