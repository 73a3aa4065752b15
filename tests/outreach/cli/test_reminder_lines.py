"""`campaign preview` and `campaign status` say whom the reminders go to, and how they stand."""

from __future__ import annotations

from typer.testing import CliRunner

from outreach.bootstrap import Services
from tests.conftest import ManualClock
from tests.outreach.campaigns.test_reminders import sampled_campaign_with_a_silent_district
from tests.outreach.cli.invoking import invoke


async def test_preview_and_status_say_the_strategy_and_how_the_reminders_stand(
    cli: CliRunner, services: Services, clock: ManualClock
) -> None:
    await sampled_campaign_with_a_silent_district(services, clock, "lagging_strata")
    preview = await invoke(cli, ["campaign", "preview", "park"])
    assert preview.exit_code == 0, preview.output
    assert (
        "Reminders after 1d to those who have not answered: lagging_strata (the strata answering least first;"
        " none past their target), at most 3" in " ".join(preview.stdout.split())
    )
    clock.advance(hours=24)
    assert (await services.lifecycle.tick()).reminded == 3
    status = await invoke(cli, ["campaign", "status", "park"])
    assert status.exit_code == 0, status.output
    # Oliwa answers 3 of 6, above the campaign's 3 of 10; Osowa (0 of 4) lags and got the 3.
    assert (
        "reminders: lagging_strata (the strata answering least first; none past their target), at most 3;"
        " 3 sent, 0 left; 1 of 2 strata lag the campaign's response rate (30.0%) and get them, 1 past their"
        " target get none" in " ".join(status.stdout.split())
    )
