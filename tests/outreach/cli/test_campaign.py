"""`outreach campaign create|preview|launch|status` as an official reads them: how far a launch has opened
its audience, how many residents fatigue held back, and the file's YAML kept for the editor."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.loader import load_campaign
from outreach.bootstrap import Services
from outreach.campaigns.commands import create_campaign
from outreach.campaigns.launches import LAUNCH_LEASE
from storage.campaigns import CampaignRepository
from storage.db import read_session
from tests.conftest import ManualClock
from tests.factories import add_resident
from tests.flows.test_campaign_text import COMMENTED, comments
from tests.outreach.cli.invoking import invoke
from tests.outreach.helpers import CAMPAIGN_YAML, launch, launch_cut_by_an_outage


async def test_status_counts_the_audience_opened_skipped_and_remaining(
    cli: CliRunner, services: Services, clock: ManualClock, tmp_path: Path
) -> None:
    for number in range(3):
        await add_resident(services, phone=f"+4860010020{number}")
    await add_resident(services, telegram="123456789")  # not in the audience: the campaign asks by sms and email
    campaign_file = tmp_path / "tram.yaml"
    campaign_file.write_text(CAMPAIGN_YAML, encoding="utf-8")
    await invoke(cli, ["campaign", "create", str(campaign_file)])
    status = await invoke(cli, ["campaign", "status", "1"])
    assert "audience: 0 opened, 0 skipped, 3 remaining (not launched yet)" in status.stdout, status.output

    await launch_cut_by_an_outage(services, "1", page_size=2)
    status = await invoke(cli, ["campaign", "status", "1"])
    assert "campaign 1 (tramwaj-na-morene): active" in status.stdout, status.output
    assert "audience: 2 opened, 0 skipped, 1 remaining (still opening:" in status.stdout

    clock.advance(seconds=LAUNCH_LEASE.total_seconds())  # the cut launch's lease has run out
    await services.lifecycle.tick()
    status = await invoke(cli, ["campaign", "status", "1"])
    assert "audience: 3 opened, 0 skipped, 0 remaining\n" in status.stdout, status.output


async def test_a_launch_names_the_residents_it_had_to_skip_by_pseudonym_only(
    cli: CliRunner, services: Services, tmp_path: Path
) -> None:
    if not services.settings.database_url.startswith("postgresql"):
        pytest.skip("SQLite does not enforce VARCHAR lengths: the 70-character time zone is stored there")
    await add_resident(services, phone="+48600100200")
    bad = await add_resident(services, phone="+48600100201", timezone="Europe/" + "x" * 63)
    campaign_file = tmp_path / "tram.yaml"
    campaign_file.write_text(CAMPAIGN_YAML, encoding="utf-8")
    await invoke(cli, ["campaign", "create", str(campaign_file)])
    launched = await invoke(cli, ["campaign", "launch", "1"])
    assert launched.exit_code == 0, launched.output
    assert "campaign 1 active: 1 conversations started, 1 resident skipped (`campaign status 1` says why)" in (
        launched.stdout
    )
    status = await invoke(cli, ["campaign", "status", "1"])
    assert "audience: 1 opened, 1 skipped, 0 remaining\n" in status.stdout, status.output
    assert (
        f"skipped {bad.pseudonym}: the database refused the resident's data:"
        " a text is longer than its column holds [SQLSTATE 22001]" in status.stdout
    )
    assert "+48600100201" not in status.output + launched.output and "xxxx" not in status.output


async def test_status_of_a_campaign_closed_while_opening_says_so(cli: CliRunner, services: Services) -> None:
    for number in range(3):
        await add_resident(services, phone=f"+4860010020{number}")
    await launch_cut_by_an_outage(services, await draft(services), page_size=2)
    closed = await invoke(cli, ["campaign", "close", "1"])
    assert closed.exit_code == 0, closed.output
    status = await invoke(cli, ["campaign", "status", "1"])
    assert "audience: 2 opened, 0 skipped, 1 remaining (closed before the launch reached them)" in status.stdout


async def draft(services: Services) -> str:
    record = await create_campaign(services.sessions, load_campaign(CAMPAIGN_YAML), clock=services.clock)
    return record.slug


ASKING_SOME = """
name: {name}
languages: [pl]
channels: [{channel}]
audience: {{where: {{group: [asked]}}}}
questions:
  - id: q
    type: yesno
    text: {{pl: "Czy?"}}
"""


async def test_preview_launch_and_status_say_how_many_fatigue_held_back(
    cli: CliRunner, services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for number, group in enumerate(["asked", "asked", "not asked"]):
        await add_resident(services, phone=f"+4860010020{number}", email=f"r{number}@example.org", group=group)
    for name, channel in (("A", "sms"), ("B", "email")):  # two campaigns ask two of the three lately
        await launch(services, ASKING_SOME.format(name=name, channel=channel))
    campaign_file = tmp_path / "tram.yaml"
    campaign_file.write_text(CAMPAIGN_YAML, encoding="utf-8")

    preview = await invoke(cli, ["campaign", "preview", str(campaign_file)])
    assert preview.exit_code == 0, preview.output
    out = " ".join(preview.stdout.split())
    assert (
        "Held back by fatigue: 2 residents asked by 2 campaigns in the last 30 days"
        " (OUTREACH_MAX_ASKS, OUTREACH_ASK_WINDOW_DAYS)" in out
    )
    assert "SMS audience: 1 residents" in out  # the cost is the eligible's

    await invoke(cli, ["campaign", "create", str(campaign_file)])
    launched = await invoke(cli, ["campaign", "launch", "tramwaj-na-morene"])
    assert launched.exit_code == 0, launched.output
    out = " ".join(launched.stdout.split())
    assert "campaign 3 active: 1 conversations started" in out
    assert "2 residents held back by fatigue (asked by 2 campaigns in the last 30 days" in out
    status = await invoke(cli, ["campaign", "status", "tramwaj-na-morene"])
    out = " ".join(status.stdout.split())
    assert "audience: 1 opened, 0 skipped, 0 remaining" in out
    assert "2 residents held back by fatigue" in out

    monkeypatch.setenv("OUTREACH_MAX_ASKS", "3")  # the city allows three asks: launched again, they are asked
    launched = await invoke(cli, ["campaign", "launch", "tramwaj-na-morene"])
    assert "campaign 3 active: 2 conversations started" in " ".join(launched.stdout.split()), launched.output
    status = await invoke(cli, ["campaign", "status", "tramwaj-na-morene"])
    assert "held back" not in status.stdout


async def test_create_keeps_the_files_yaml_with_its_comments_for_the_editor(
    cli: CliRunner, services: Services, tmp_path: Path
) -> None:
    campaign_file = tmp_path / "lawki.yaml"
    campaign_file.write_text(COMMENTED, encoding="utf-8")
    created = await invoke(cli, ["campaign", "create", str(campaign_file)])
    assert created.exit_code == 0, created.output
    async with read_session(services.sessions) as session:
        record = await CampaignRepository(session).by_reference("lawki-na-oruni")
    assert record is not None and record.source is not None
    # The file as written, with the service's privacy notice it now carries, as the definition does.
    assert record.source.startswith(COMMENTED.removesuffix("# The end.\n") + "privacy_notice:")
    assert comments(record.source) == comments(COMMENTED)
    assert load_campaign(record.source).model_dump(mode="json", exclude_unset=True) == record.definition
