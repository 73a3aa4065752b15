"""The command line starts lean: `outreach --help` imports none of our commands, a command's `--help`
none of the database and wiring, and each command's start-up imports only the libraries it uses
(checked in fresh interpreters, not timed: the timing is `make bench-cli`'s). Each command's help in
the list is the one it gives itself."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from outreach.cli.lazy import load_command, source_help
from outreach.cli.main import COMMANDS, app

REPO = Path(__file__).resolve().parents[3]
# Libraries only a running command may import (those it uses): the web service, the providers' SDKs, Redis,
# numpy, the scheduler.
HEAVY = frozenset(
    {
        "aiohttp",
        "telegram",
        "twilio",
        "aiosmtplib",
        "aioimaplib",
        "httpx",
        "requests",
        "redis",
        "numpy",
        "apscheduler",
        "segno",
        "prometheus_client",
    }
)
# In a child of one process that loaded only typer, start a command (its --help: parsing the
# command line loads its module, nothing runs) and say which top-level modules it added.
STARTS = """
import importlib, io, json, os, sys
for name in {preloaded!r}:
    importlib.import_module(name)
found = {{}}
for command in sys.argv[1:]:
    read, write = os.pipe()
    if os.fork() == 0:
        before = set(sys.modules)
        sys.stdout = io.StringIO()
        from outreach.cli.main import app
        try:
            app([*command.split(), "--help"], standalone_mode=False)
        except SystemExit:
            pass
        added = sorted({{name.split(".")[0] for name in set(sys.modules) - before}})
        os.write(write, json.dumps(added).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        found[command] = json.loads(pipe.read())
    os.wait()
print(json.dumps(found))
"""


def started(commands: list[str]) -> dict[str, set[str]]:
    script = STARTS.format(preloaded=("typer",))
    done = subprocess.run(
        [sys.executable, "-c", script, *commands], cwd=REPO, capture_output=True, text=True, timeout=300, check=True
    )
    return {command: set(modules) for command, modules in json.loads(done.stdout).items()}


def test_the_help_lists_every_command_without_importing_one() -> None:
    script = (
        "import io, sys\nsys.stdout = io.StringIO()\nfrom outreach.cli.main import app\n"
        "try:\n    app(['--help'], standalone_mode=False)\nexcept SystemExit:\n    pass\n"
        "sys.stdout = sys.__stdout__\nprint(' '.join(sorted(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True)
    loaded = set(done.stdout.split())
    ours = {name for name in loaded if name.split(".")[0] in ("outreach", "storage", "flows", "channels")}
    assert ours == {"outreach", "outreach.cli", "outreach.cli.main", "outreach.cli.lazy"}
    assert not loaded & {"sqlalchemy", "pydantic", "sqlmodel", "aiohttp", "numpy"}


# What only running a command needs: its help is read from the command's signature (issue 18).
RUNNING = frozenset({"sqlalchemy", "sqlmodel", "aiosqlite", "asyncpg", "alembic"})


def test_each_command_starts_with_only_the_libraries_it_uses() -> None:
    # Its --help, from an interpreter that loaded only typer: none of the heavy libraries, not even
    # those it uses when it runs (serve: all of them; enrol-link: segno), and no database.
    modules = started(list(COMMANDS))
    assert set(modules) == set(COMMANDS)
    loaded = {command: sorted(added & (RUNNING | HEAVY)) for command, added in modules.items()}
    assert loaded == {command: [] for command in COMMANDS}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_the_listed_help_is_the_commands_own(name: str) -> None:
    listed = source_help(COMMANDS[name])
    assert listed, f"{COMMANDS[name]}: no docstring or help= to list"
    assert listed == load_command(name, COMMANDS[name]).help


def test_a_command_runs_from_its_module(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["enrol-link", "no spaces allowed"])
    assert result.exit_code == 1
    assert "must be 1-64 of A-Z a-z 0-9 _ -" in result.output
    unknown = CliRunner().invoke(app, ["no-such-command"])
    assert unknown.exit_code == 2 and "No such command" in unknown.output


def test_the_bootstrap_makes_a_part_when_it_is_first_used(tmp_path: Path) -> None:
    # A command that reads the campaigns wires neither the dispatcher nor the inbound pipeline, nor
    # imports them; the first use makes each, once.
    script = (
        "import asyncio, sys\nfrom outreach.bootstrap import bootstrap\nfrom outreach.settings import Settings\n"
        f"services = bootstrap(Settings(database_url='sqlite+aiosqlite:///{tmp_path}/lazy.db'))\n"
        "parts = ('outreach.outbound.dispatcher', 'outreach.inbound.pipeline', 'outreach.campaigns.lifecycle')\n"
        "print(sorted(name for name in parts if name in sys.modules))\n"
        "first = services.dispatcher\nassert services.dispatcher is first and services.pipeline is services.pipeline\n"
        "print(sorted(name for name in parts if name in sys.modules))\nasyncio.run(services.close())"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == ["[]", "['outreach.inbound.pipeline', 'outreach.outbound.dispatcher']"]
