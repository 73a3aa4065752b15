"""`outreach results` shows a text question's answers grouped by shared words, personal data masked."""

from __future__ import annotations

import asyncio

from typer.testing import CliRunner

from outreach.bootstrap import Services
from outreach.cli.main import app
from tests.outreach.results.test_free_text import answered


async def test_the_results_table_shows_free_text_grouped_and_scrubbed(cli: CliRunner, services: Services) -> None:
    record = await answered(services)
    result = await asyncio.to_thread(cli.invoke, app, ["results", record.slug])
    assert result.exit_code == 0, result.output
    printed = result.stdout
    assert "idea: Co zmienić?" in printed and "shared word" in printed
    assert "ławki (ławka, ławkach, lawki)" in printed
    assert "[PESEL]" in printed and "[email]" in printed
    assert "44051401359" not in printed and "jan@example.com" not in printed
