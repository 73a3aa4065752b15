"""Progress bars of `residents import` and `campaign launch`: drawn on a terminal, silent when piped."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from outreach.cli.main import app
from outreach.cli.progress_bars import progress_bar
from tests.outreach.helpers import CAMPAIGN_YAML

DATA = Path(__file__).parents[1] / "data"


def drawn(*, terminal: bool) -> str:
    out = io.StringIO()
    console = Console(file=out, force_terminal=terminal, width=100)
    with progress_bar(console, "importing", 1200) as bar:
        for _ in range(1200):
            bar.advance()
    return out.getvalue()


def test_a_bar_is_drawn_on_a_terminal_to_its_end() -> None:
    shown = drawn(terminal=True)
    assert "importing" in shown and "1200/1200" in shown


def test_a_bar_says_nothing_when_the_output_is_piped() -> None:
    assert drawn(terminal=False) == ""


def test_import_and_launch_print_only_their_summaries_when_piped(cli: CliRunner, tmp_path: Path) -> None:
    imported = cli.invoke(app, ["residents", "import", str(DATA / "residents.csv")])
    assert imported.stdout.splitlines()[0] == "9 rows: 4 created, 0 updated, 0 unchanged, 5 rejected"
    campaign = tmp_path / "tram.yaml"
    campaign.write_text(CAMPAIGN_YAML, encoding="utf-8")
    assert cli.invoke(app, ["campaign", "create", str(campaign)]).exit_code == 0
    launched = cli.invoke(app, ["campaign", "launch", "1"])
    assert launched.exit_code == 0, launched.output
    assert launched.stdout.splitlines()[0] == "campaign 1 active: 3 conversations started"
    assert "gone through" not in launched.output and "importing" not in imported.output
