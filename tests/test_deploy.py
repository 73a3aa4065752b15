"""deploy/ stays true to the code: its systemd units run real `outreach` commands and options, its
environment file names real settings, and nginx sends to the workers the units start (docs/DEPLOY.md).

Read as text, and where `systemd-analyze` is installed (no systemd as PID 1 needed) verified by it as
DEPLOY.md does; `nginx -t` stays DEPLOY.md's own step (no nginx here)."""

from __future__ import annotations

import configparser
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer import _click as click  # Typer's own copy of click, which its commands are made of (cli/lazy.py)

from outreach.cli.main import app
from outreach.settings import Settings, env_name

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
ENV_FILE = DEPLOY / "systemd" / "outreach.env.example"
NGINX = DEPLOY / "nginx" / "outreach.conf"
INSTALLED_CLI = "/opt/outreach/.venv/bin/outreach"
EXAMPLE_PORT = "8081"  # what %i stands for in outreach-web@.service
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
THIS_CLI = Path(sys.executable).parent / "outreach"  # the installed command, where INSTALLED_CLI would be


def read_unit(path: Path) -> configparser.ConfigParser:
    unit = configparser.ConfigParser(interpolation=None, strict=True)
    unit.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    unit.read(path)
    return unit


def command_for(words: list[str]) -> tuple[click.Command, list[str]]:
    """The click command `words` name (commands and sub-commands), and the words after it."""
    command: click.Command = typer.main.get_command(app)
    context = click.Context(command)
    while words and hasattr(command, "get_command"):  # a group
        found = command.get_command(context, words[0])
        if found is None:
            break
        command, words = found, words[1:]
        context = click.Context(command, parent=context)
    return command, words


def test_there_are_units_to_check() -> None:
    assert {path.name for path in UNITS} >= {"outreach-web@.service", "outreach-migrate.service"}


@pytest.mark.parametrize("path", UNITS, ids=lambda path: path.name)
def test_each_unit_runs_a_real_outreach_command_with_real_options(path: Path) -> None:
    unit = read_unit(path)
    assert set(unit.sections()) >= {"Unit", "Service", "Install"}
    program, *words = shlex.split(unit["Service"]["ExecStart"].replace("%i", EXAMPLE_PORT))
    assert program == INSTALLED_CLI
    command, rest = command_for(words)
    assert not hasattr(command, "get_command"), f"{words} names a group, not a command"
    options = {opt for param in command.params for opt in param.opts if param.param_type_name == "option"}
    assert all(word in options for word in rest if word.startswith("--")), f"{rest} not all in {options}"
    # What is left must parse: an unknown option or a bad value (a port out of range) fails here.
    command.make_context(command.name, list(rest))


@pytest.mark.parametrize("name", ["outreach-web@.service", "outreach-work@.service"])
def test_workers_start_after_the_migrations_and_stop_on_sigterm_with_time_to_finish_sends(name: str) -> None:
    worker = read_unit(DEPLOY / "systemd" / name)
    assert "outreach-migrate.service" in worker["Unit"]["Requires"].split()
    assert "outreach-migrate.service" in worker["Unit"]["After"].split()
    assert worker["Service"]["KillSignal"] == "SIGTERM"
    assert int(worker["Service"]["TimeoutStopSec"]) > Settings.model_fields["twilio_timeout_seconds"].default
    migrate = read_unit(DEPLOY / "systemd" / "outreach-migrate.service")
    assert migrate["Service"]["Type"] == "oneshot"


def test_the_environment_file_names_only_real_settings() -> None:
    real = {env_name(field) for field in Settings.model_fields}
    names = [line.split("=", 1)[0] for line in ENV_FILE.read_text().splitlines() if line and not line.startswith("#")]
    assert names, "no settings in the environment file"
    assert [name for name in names if name not in real] == []


def test_nginx_sends_to_the_ports_the_workers_listen_on_and_keeps_its_braces_balanced() -> None:
    text = NGINX.read_text()
    assert text.count("{") == text.count("}")
    upstream = re.search(r"upstream (\w+) \{(.*?)\}", text, re.S)
    assert upstream is not None
    assert f"proxy_pass http://{upstream.group(1)};" in text
    ports = re.findall(r"server 127\.0\.0\.1:(\d+)[ ;]", upstream.group(2))
    assert ports and all(0 < int(port) < 65536 for port in ports)
    assert "listen 443 ssl" in text
    # The forwarding header marks a proxied request, which /metrics refuses without its token.
    assert "X-Forwarded-For" in text


@pytest.mark.skipif(SYSTEMD_ANALYZE is None or not THIS_CLI.exists(), reason="no systemd-analyze or no outreach")
def test_systemd_analyze_verifies_the_units_without_a_warning(tmp_path: Path) -> None:
    """What systemd itself would say of them: an unknown key or a bad value is only a warning (exit 0),
    so any line it prints about our units fails too. The program path points at this checkout's."""
    for path in UNITS:
        text = path.read_text().replace(INSTALLED_CLI, str(THIS_CLI))
        (tmp_path / path.name.replace("@.", f"@{EXAMPLE_PORT}.")).write_text(text)
    assert SYSTEMD_ANALYZE is not None
    done = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", "--man=no", *sorted(f"./{path.name}" for path in tmp_path.iterdir())],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stdout + done.stderr) == (0, "")
