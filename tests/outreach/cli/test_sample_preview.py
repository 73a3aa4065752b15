"""`campaign preview` of a sampled campaign: the allocation table, short strata, residents held back
by fatigue and values matching no stratum, before anything is sent; what cannot be drawn is an error."""

from __future__ import annotations

import asyncio
from pathlib import Path

from typer.testing import CliRunner, Result

from flows.loader import load_campaign
from outreach.bootstrap import Services
from outreach.campaigns.commands import create_campaign, launch_campaign
from outreach.cli.main import app
from outreach.survey.margins_store import save_margins
from tests.factories import add_resident
from tests.outreach.helpers import CITY, SAMPLED

ASKING_OLIWA = """
name: {name}
languages: [pl]
channels: [{channel}]
audience:
  where: {{group: [asked]}}
questions:
  - id: q
    type: yesno
    text: {{pl: "Czy?"}}
"""


async def invoke(cli: CliRunner, args: list[str]) -> Result:
    return await asyncio.to_thread(cli.invoke, app, args)


async def _city(services: Services) -> None:
    async with services.sessions() as session, session.begin():
        await save_margins(session, CITY, source="test", now=services.clock())
    districts = ["Oliwa"] * 8 + ["Osowa", "Mars", ""]
    for number, district in enumerate(districts):
        group = "asked" if number < 3 else "not asked"
        await add_resident(
            services, phone=f"+486001002{number:02d}", email=f"r{number}@example.org", district=district, group=group
        )


async def test_preview_shows_the_allocation_before_anything_is_sent(
    cli: CliRunner, services: Services, tmp_path: Path
) -> None:
    await _city(services)
    # Two campaigns (an SMS one and an email one) ask three Oliwa residents: fatigue holds them back.
    for channel, name in (("sms", "A"), ("email", "B")):
        flow = load_campaign(ASKING_OLIWA.format(name=name, channel=channel))
        record = await create_campaign(services.sessions, flow, clock=services.clock)
        await launch_campaign(services.sessions, record.slug, clock=services.clock)
    campaign_file = tmp_path / "park.yaml"
    campaign_file.write_text(SAMPLED, encoding="utf-8")
    result = await invoke(cli, ["campaign", "preview", str(campaign_file)])
    assert result.exit_code == 0, result.output
    out = " ".join(result.stdout.split())  # the console wraps long lines
    assert (
        "Sample: 5 of 6 eligible residents; strata: district; allocation proportional to the margins 'city'; seed 7"
        in out
    )
    rows = [" ".join(line.replace("│", " ").split()) for line in result.stdout.splitlines() if "│" in line]
    # Oliwa: 60% of 5 = 3 wanted; Osowa has 1 of its 2, so Oliwa takes 4 of its 5 eligible.
    assert any(row.startswith("Oliwa 60.0% 5 3 3 4 0.800") for row in rows), rows
    assert any(row.startswith("Osowa 40.0% 1 0 2 1 (short) 1.000") for row in rows), rows
    assert "short stratum Osowa: wants 2, has 1" in result.stderr
    assert "residents whose district matches no stratum, not drawn: (no value) 1, Mars 1" in result.stderr
    assert "Held back by fatigue: 3 residents asked by 2 campaigns in the last 30 days" in out
    assert "sms · pl" in out  # the texts follow as before
    # The SMS cost is the sample's (5 residents, 2 segments each with the privacy line, 0.04), not the
    # whole audience's (11).
    assert "SMS sample: 5 residents (pl 5); from 10 segments ≈ 0.40 USD" in out


async def test_a_sample_larger_than_the_eligible_audience_is_an_error_in_the_preview(
    cli: CliRunner, services: Services, tmp_path: Path
) -> None:
    await _city(services)
    campaign_file = tmp_path / "park.yaml"
    campaign_file.write_text(SAMPLED.replace("size: 5", "size: 50"), encoding="utf-8")
    result = await invoke(cli, ["campaign", "preview", str(campaign_file)])
    assert result.exit_code == 1
    assert "audience.sample.size: 50 is more than the 9 eligible residents in the strata" in result.stderr


async def test_launch_and_status_say_what_was_drawn_and_the_short_strata(
    cli: CliRunner, services: Services, tmp_path: Path
) -> None:
    await _city(services)
    await create_campaign(services.sessions, load_campaign(SAMPLED), clock=services.clock)
    launched = await invoke(cli, ["campaign", "launch", "park"])
    assert launched.exit_code == 0, launched.output
    out = " ".join(launched.stdout.split())
    assert "campaign 1 active: 5 conversations started" in out
    assert "sample: 5 drawn of 9 eligible (size 5, strata district, seed 7)" in out
    assert "short stratum Osowa: wanted 2, had 1 (all drawn; the rest spread over the other strata)" in out
    status = await invoke(cli, ["campaign", "status", "park"])
    assert "sample: 5 drawn of 9 eligible" in " ".join(status.stdout.split())
