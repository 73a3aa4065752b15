"""`outreach campaign status CAMPAIGN` per channel (queued, sent, delivered, failed, unknown, answered)
after real sends through the provider stand-ins, and --watch following the sends until idle."""

from __future__ import annotations

import asyncio
import io

from rich.console import Console
from typer.testing import CliRunner

from flows.loader import load_campaign
from outreach.bootstrap import Services
from outreach.campaigns.commands import create_campaign, launch_campaign
from outreach.campaigns.progress import CampaignProgress, campaign_progress
from outreach.cli.campaign_watch import watch
from outreach.cli.main import app
from tests.conftest import ManualClock
from tests.factories import add_resident
from tests.outreach.helpers import launch
from tests.providers import SMS_FROM, TELEGRAM_WEBHOOK_SECRET
from tests.world import open_world

CAMPAIGN = """
name: Tramwaj nocą
languages: [pl]
channels: [sms, telegram]
schedule: {quiet_hours: null}
questions:
  - {id: uses_tram, type: yesno, text: {pl: "Czy jeździsz tramwajem?"}}
  - {id: improve, type: text, text: {pl: "Co poprawić?"}}
"""
DROPPED, ANSWERING, DEAD = "+48600100201", "+48600100202", "+48600100203"
TAPPING, SILENT = 731948265, 731948266


def row(output: str, channel: str) -> list[str]:
    """The cells of a channel's row in the status table."""
    [line] = [
        line for line in output.splitlines() if line.startswith("│") and line.strip("│ ").startswith(channel + " ")
    ]
    return [cell.strip() for cell in line.strip("│ ").split("│")]


async def test_status_counts_each_channels_messages_and_who_answered(
    cli: CliRunner, database_url: str, clock: ManualClock
) -> None:
    async with open_world(database_url, clock, twilio=True, telegram=True) as world:
        services = world.services
        # First one SMS whose connection drops once the request is written: outcome unknown.
        await add_resident(services, phone=DROPPED)
        campaign_id = await launch(services, CAMPAIGN)
        world.twilio.drop_next()
        assert await services.dispatcher.drain() == 1
        # Then the rest (a launch run again asks those added since): one answers and is reported delivered,
        # one number is dead, one chat taps its answer, one stays silent.
        await add_resident(services, phone=ANSWERING)
        await add_resident(services, phone=DEAD)
        await add_resident(services, telegram=str(TAPPING))
        await add_resident(services, telegram=str(SILENT))
        await launch_campaign(services.sessions, str(campaign_id), clock=clock)
        world.twilio.script(to=DEAD, status=400, code=21211)
        assert await services.dispatcher.drain() == 4
        await world.twilio.deliver_inbound(world.url("/webhooks/twilio/sms"), from_=ANSWERING, to=SMS_FROM, body="tak")
        [sms] = [message for message in world.twilio.messages if message.to == ANSWERING]
        assert await world.twilio.deliver_status(sms.sid, "delivered") == 200
        [asked] = world.telegram.messages(TAPPING)
        tap = world.telegram.callback_update(TAPPING, f"a:{campaign_id}:uses_tram:yes", asked["message_id"])
        assert await world.telegram.post_update(world.url("/webhooks/telegram"), tap, TELEGRAM_WEBHOOK_SECRET) == 200

    status = await asyncio.to_thread(cli.invoke, app, ["campaign", "status", str(campaign_id)])
    assert status.exit_code == 0, status.output
    # channel, queued, sent, delivered, failed, unknown, answered
    assert row(status.stdout, "sms") == ["sms", "1", "0", "1", "1", "1", "1"], status.stdout
    assert row(status.stdout, "telegram") == ["telegram", "1", "2", "0", "0", "0", "1"], status.stdout


async def test_watch_reads_again_after_each_pause_until_the_campaign_is_idle(
    services: Services, clock: ManualClock
) -> None:
    for number in range(3):
        await add_resident(services, phone=f"+4860010030{number}")
    campaign_id = await launch(services, CAMPAIGN)
    readings: list[CampaignProgress] = []
    pauses = 0

    async def read() -> CampaignProgress:
        readings.append(await campaign_progress(services.sessions, campaign_id, now=clock()))
        return readings[-1]

    async def pause() -> None:  # instead of a few seconds' sleep: the sends those seconds would see
        nonlocal pauses
        pauses += 1
        clock.advance(seconds=2)
        await services.dispatcher.dispatch_once()

    screen = io.StringIO()
    last = await watch(read, pause, Console(file=screen, width=120))

    assert pauses == 1 and len(readings) == 2
    [first] = readings[0].channels
    assert (first.channel, first.queued, first.due, first.sent) == ("sms", 3, 3, 0) and not readings[0].idle
    assert last.idle and [(channel.channel, channel.sent, channel.queued) for channel in last.channels] == [
        ("sms", 3, 0)
    ]
    assert "3/3" in screen.getvalue() and row(screen.getvalue(), "sms") == ["sms", "0", "3", "0", "0", "0", "0"]


async def test_watch_of_an_idle_campaign_returns_at_once(
    cli: CliRunner, services: Services, clock: ManualClock
) -> None:
    record = await create_campaign(services.sessions, load_campaign(CAMPAIGN), clock=clock)
    status = await asyncio.to_thread(cli.invoke, app, ["campaign", "status", record.slug, "--watch", "--every", "60"])
    assert status.exit_code == 0, status.output
    assert f"campaign {record.id} ({record.slug}): draft" in status.stdout
