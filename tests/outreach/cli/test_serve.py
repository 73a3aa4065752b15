"""`outreach serve`'s options as an operator meets them (the running service: tests/outreach/web/test_server.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from outreach.cli.main import app


def test_web_only_is_refused_on_sqlite_with_the_reason(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """One writer at a time: a web process storing messages would wait for `outreach work`'s handling."""
    monkeypatch.setenv("OUTREACH_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'outreach.db'}")
    monkeypatch.chdir(tmp_path)
    refused = CliRunner().invoke(app, ["serve", "--web-only", "--port", "0"])
    assert refused.exit_code == 2
    assert "serve --web-only needs PostgreSQL" in refused.stderr
    assert not (tmp_path / "outreach.db").exists()  # refused before anything was opened
