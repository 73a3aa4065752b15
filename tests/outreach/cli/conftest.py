"""The command line against each test database: a runner whose environment names it."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.setenv("OUTREACH_DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    return CliRunner()
