"""`outreach enrol-link` without Telegram's channel: with --bot it needs none; without, it says how to
configure one (the channel is recognised by its shape, as the command no longer imports its class)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from outreach.cli.main import app


def test_with_bot_it_writes_the_link_without_telegram(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OUTREACH_TELEGRAM_BOT_TOKEN", raising=False)
    result = cli.invoke(app, ["enrol-link", "stop-3", "--bot", "@gdansk_pyta_bot", "-o", str(tmp_path / "qr.png")])
    assert result.exit_code == 0, result.output
    assert "https://t.me/gdansk_pyta_bot?start=stop-3" in result.stdout
    assert (tmp_path / "qr.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_without_bot_or_telegram_it_says_what_to_set(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OUTREACH_TELEGRAM_BOT_TOKEN", raising=False)
    result = cli.invoke(app, ["enrol-link", "stop-3"])
    assert result.exit_code == 1
    assert "Telegram is not configured: set OUTREACH_TELEGRAM_BOT_TOKEN, or give --bot" in result.stderr
