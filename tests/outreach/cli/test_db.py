"""`outreach db upgrade`: the schema, and the default margins added once, never over a city's own."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from outreach.bootstrap import Services
from outreach.cli.main import app
from outreach.survey.margins_store import DEFAULT_MARGINS, default_margins, load_margins

ADDED = (
    "default margins 'gdansk-districts' added: the 35 districts of Gdańsk (`outreach margins show gdansk-districts`)"
)


async def invoke(cli: CliRunner, args: list[str]) -> Result:
    """The CLI runs its own event loop: from an async test, run it in a thread."""
    return await asyncio.to_thread(cli.invoke, app, args)


async def test_upgrade_adds_the_default_margins_once(cli: CliRunner, services: Services) -> None:
    first = await invoke(cli, ["db", "upgrade"])
    assert first.exit_code == 0, first.output
    assert first.stdout.splitlines()[0] == "database is up to date"
    assert ADDED in first.stdout
    second = await invoke(cli, ["db", "upgrade"])
    assert second.stdout.splitlines() == ["database is up to date"]
    async with services.sessions() as session:
        assert await load_margins(session, DEFAULT_MARGINS) == default_margins()
    listed = await invoke(cli, ["margins", "list"])
    assert listed.stdout.startswith("gdansk-districts  version 1  35 cells  gdansk_districts_margins.csv")


async def test_a_citys_own_margins_under_the_default_name_are_kept(
    cli: CliRunner, services: Services, tmp_path: Path
) -> None:
    own = tmp_path / "own.csv"
    own.write_text("dimension,value,population\ndistrict,Oliwa,1\n", encoding="utf-8")
    await invoke(cli, ["margins", "import", str(own), "--name", DEFAULT_MARGINS])
    result = await invoke(cli, ["db", "upgrade"])
    assert ADDED not in result.stdout
    async with services.sessions() as session:
        assert (await load_margins(session, DEFAULT_MARGINS)).dimensions == {"district": {"oliwa": 1.0}}


def test_a_new_database_gets_its_schema_and_the_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OUTREACH_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/new.db")
    monkeypatch.chdir(tmp_path)
    cli = CliRunner()
    assert ADDED in cli.invoke(app, ["db", "upgrade"]).stdout
    shown = cli.invoke(app, ["margins", "show", DEFAULT_MARGINS])
    assert "district: 35 values, population 490,301" in shown.stdout
