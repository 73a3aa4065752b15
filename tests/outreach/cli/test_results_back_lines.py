"""`campaign preview` counts who would get the results back and prices their SMS; `campaign close` queues
them at once."""

from __future__ import annotations

import asyncio
from pathlib import Path

from typer.testing import CliRunner, Result

from outreach.bootstrap import Services
from outreach.cli.main import app
from tests.conftest import ManualClock
from tests.outreach.results.test_results_back import CAMPAIGN, PEOPLE, closed_campaign


async def invoke(cli: CliRunner, args: list[str]) -> Result:
    return await asyncio.to_thread(cli.invoke, app, args)


async def test_preview_and_close_say_what_goes_back(
    cli: CliRunner, services: Services, clock: ManualClock, tmp_path: Path
) -> None:
    campaign_file = tmp_path / "park.yaml"
    campaign_file.write_text(CAMPAIGN, encoding="utf-8")
    from_file = await invoke(cli, ["campaign", "preview", str(campaign_file)])
    assert from_file.exit_code == 0, from_file.output
    out = " ".join(from_file.stdout.split())
    assert "results back (after close, to respondents)" in out
    assert "Results back after close: to each respondent who did not say STOP" in out

    campaign_id = await closed_campaign(services, clock)
    created = await invoke(cli, ["campaign", "preview", str(campaign_id)])
    assert created.exit_code == 0, created.output
    # 7 by SMS (+48 at 0.04 a segment, the default prices), 3 segments each at the message's longest.
    out = " ".join(created.stdout.split())
    assert "Results back after close: 8 respondents so far (sms 7, telegram 1); SMS at most 21 segments ≈ 0.84" in out


async def test_close_queues_the_results_back_at_once(cli: CliRunner, services: Services, clock: ManualClock) -> None:
    campaign_id = await closed_campaign(services, clock, close=False)
    closed = await invoke(cli, ["campaign", "close", str(campaign_id)])
    assert closed.exit_code == 0, closed.output
    assert f"campaign {campaign_id} closed" in closed.stdout
    assert f"results back: {len(PEOPLE)} messages queued (sent outside quiet hours)" in closed.stdout
