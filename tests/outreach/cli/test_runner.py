"""What every command shares: a configuration that cannot start is refused in one clean line, and its
log records are written in OUTREACH_LOG_FORMAT."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from outreach.bootstrap import Services
from outreach.cli.main import app
from storage.outbox import OutboxRepository
from tests.factories import add_resident
from tests.outreach.helpers import launch
from tests.providers import TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN


@pytest.mark.parametrize("mode", ["development", "production"])
async def test_a_worker_with_twilio_set_only_in_part_refuses_to_start_and_names_what_is_missing(
    services: Services, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, mode: str
) -> None:
    """Twilio without a sender used to put the sandbox in its place: the launch "sent" SMS with fake
    ids and charged the budget. Now the worker does not start, in either mode, and says why."""
    await add_resident(services, phone="+48600100200")
    await launch(services)
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    for name, value in {
        "OUTREACH_DATABASE_URL": database_url,
        "OUTREACH_ENV": mode,
        "OUTREACH_TWILIO_ACCOUNT_SID": TWILIO_ACCOUNT_SID,
        "OUTREACH_TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
    }.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(app, ["dispatch", "--until-idle"])
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("configuration refused: Twilio is set only in part")
    assert "OUTREACH_TWILIO_FROM or OUTREACH_TWILIO_MESSAGING_SERVICE_SID missing" in line
    assert TWILIO_AUTH_TOKEN not in result.output
    async with services.sessions() as session:
        assert await OutboxRepository(session).count_by_status() == {"queued": 1}  # nothing "sent"


EXAMPLE = Path(__file__).parents[3] / "examples" / "budzet_obywatelski_2027.yaml"


@pytest.mark.parametrize(
    "command",
    [["campaign", "validate", str(EXAMPLE)], ["campaign", "create", str(EXAMPLE)], ["webhooks"]],
    ids=["campaign validate", "campaign create", "webhooks"],
)
def test_every_command_refuses_a_configuration_in_one_clean_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, command: list[str]
) -> None:
    """These read the settings themselves: a refused one gave pydantic's traceback instead."""
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    monkeypatch.setenv("OUTREACH_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("OUTREACH_TWILIO_ACCOUNT_SID", TWILIO_ACCOUNT_SID)
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    [line] = result.stderr.splitlines()
    assert line.startswith("configuration refused: Twilio is set only in part")


def test_a_one_shot_commands_log_records_are_json_lines_when_the_format_is_json(tmp_path: Path) -> None:
    """Only `serve` and `dispatch` set logging up: any other command's warnings came out as Python's
    bare last-resort lines, one unparseable line in a JSON log. An armed fault point warns at wiring."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("OUTREACH_")}
    env |= {
        "OUTREACH_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'o.db'}",
        "OUTREACH_LOG_FORMAT": "json",
        "OUTREACH_FAULT_POINT": "send_marked:9",
    }
    done = subprocess.run(
        [sys.executable, "-m", "outreach.cli", "db", "upgrade"],
        cwd=tmp_path,  # no stray .env is read
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    entries = [json.loads(line) for line in done.stderr.splitlines()]
    assert [(entry["level"], entry["logger"]) for entry in entries] == [("WARNING", "outreach.faults")]
    assert "send_marked #9" in entries[0]["message"]


@pytest.mark.parametrize(
    ("url", "line"),
    [
        (
            "mysql://outreach:s3cret@127.0.0.1/outreach",
            "configuration refused: OUTREACH_DATABASE_URL: mysql:// is not a database outreach speaks:",
        ),
        (
            "postgresql://outreach:s3cret@127.0.0.1:1/outreach",  # nothing listens on port 1
            "cannot reach the database at 127.0.0.1:1 (connection refused): is it running there?",
        ),
    ],
    ids=["another database", "a database that does not answer"],
)
def test_a_database_it_cannot_use_is_said_in_one_line_never_with_its_password(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, url: str, line: str
) -> None:
    """Both gave a traceback: a driver's import (MySQLdb) or asyncpg's connect frames."""
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    monkeypatch.setenv("OUTREACH_DATABASE_URL", url)
    result = CliRunner().invoke(app, ["campaign", "status"])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    [said] = result.stderr.splitlines()
    assert said.startswith(line), said
    assert "s3cret" not in result.output
