"""`outreach residents import` of a large file, whose rows a second process checks: when that process
dies, the official is told in words what happened, and importing again loses and doubles nobody."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from outreach.bootstrap import Services
from storage.residents import ResidentRepository
from tests.outreach.cli.invoking import invoke
from tests.parsers import new_parser, parsing_processes

ROWS = 30_000  # about 2.3 MB: over the size from which a parsing process checks the rows


def register(path: Path) -> Path:
    lines = (f"+48600{100000 + number},pl,Oliwa,register,2026-01-10T12:00:00+01:00\n" for number in range(ROWS))
    path.write_text("phone,language,district,consent_source,consent_at\n" + "".join(lines), encoding="utf-8")
    return path


async def test_a_parser_that_dies_stops_the_import_in_words_and_importing_again_completes_it(
    cli: CliRunner, services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})  # a parser runs where two CPUs are
    path = register(tmp_path / "register.csv")
    before = parsing_processes()
    importing = asyncio.ensure_future(invoke(cli, ["residents", "import", str(path)]))
    os.kill(await new_parser(before), signal.SIGKILL)
    stopped = await importing
    assert stopped.exit_code == 1, stopped.output
    assert "the parsing process failed" in stopped.stderr and "ended without a word" in stopped.stderr
    assert "importing the file again skips them" in stopped.stderr
    assert "Traceback" not in stopped.output
    again = await invoke(cli, ["residents", "import", str(path)])
    assert again.exit_code == 0, again.output
    said = again.stdout.splitlines()[0]
    created, unchanged = (int(said.split(f" {word}")[0].rsplit(" ", 1)[-1]) for word in ("created", "unchanged"))
    assert said.startswith(f"{ROWS} rows:") and created + unchanged == ROWS and created > 0
    async with services.sessions() as session:
        assert await ResidentRepository(session).count() == ROWS
