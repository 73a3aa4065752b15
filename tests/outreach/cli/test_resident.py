"""`outreach resident find | export | erase` and `outreach retention run`: the address in any form
(or on standard input), a confirmation before an erasure, and no address in what is printed but the
export itself."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

from typer.testing import CliRunner, Result

from outreach.bootstrap import Services
from outreach.cli.main import app
from tests.conftest import ManualClock
from tests.outreach.rights.scenario import EMAIL, NATIONAL, PHONE, answered_and_stopped


async def invoke(cli: CliRunner, args: list[str], stdin: str | None = None) -> Result:
    return await asyncio.to_thread(cli.invoke, app, args, input=stdin)


async def test_find_export_and_erase_from_the_command_line(cli: CliRunner, services: Services) -> None:
    scenario = await answered_and_stopped(services)
    found = await invoke(cli, ["resident", "find", "600 100 299"])
    assert found.exit_code == 0, found.output
    assert found.stdout.strip() == f"{scenario.pseudonym}: email, sms, telegram; 2 campaign(s), 4 answer(s)"
    exported = await invoke(cli, ["resident", "export", "-"], stdin=EMAIL.upper() + "\n")
    assert exported.exit_code == 0, exported.output
    [record] = json.loads(exported.stdout)["residents"]
    assert record["resident"] == scenario.pseudonym and len(record["answers"]) == 4

    refused = await invoke(cli, ["resident", "erase", PHONE], stdin="n\n")
    assert refused.exit_code == 1 and "nothing erased" in refused.output
    assert (await invoke(cli, ["resident", "find", PHONE])).exit_code == 0
    erased = await invoke(cli, ["resident", "erase", NATIONAL, "--yes"])
    assert erased.exit_code == 0, erased.output
    assert erased.stdout.startswith(f"{scenario.pseudonym} erased: 3 address(es) deleted, 4 answer(s) anonymised")
    for result in (found, erased):
        assert PHONE not in result.output and NATIONAL not in result.output and EMAIL.lower() not in result.output
    gone = await invoke(cli, ["resident", "find", PHONE])
    assert (gone.exit_code, gone.output.strip()) == (1, "no resident has this address")


async def test_retention_run_counts_then_removes(cli: CliRunner, services: Services, clock: ManualClock) -> None:
    clock.now = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)  # the command reads the system clock: long after
    await answered_and_stopped(services)
    dry = await invoke(cli, ["retention", "run", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    due = dict(line.split(": ") for line in dry.stdout.splitlines())
    assert due["inbound"] == "14 due" and due["early_reports"] == "0 due"  # 3 × 3 answers, 5 of hers
    run = await invoke(cli, ["retention", "run"])
    assert run.exit_code == 0, run.output
    assert dict(line.split(": ") for line in run.stdout.splitlines())["inbound"] == "14 removed"
    again = await invoke(cli, ["retention", "run", "--dry-run"])
    assert set(dict(line.split(": ") for line in again.stdout.splitlines()).values()) == {"0 due"}
