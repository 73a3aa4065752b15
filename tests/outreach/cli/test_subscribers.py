"""`outreach subscribers`: an operator subscribes a loopback URL (the secret printed once, alone on
standard output), `dispatch --until-idle` posts the launch's event to it, a failed delivery is listed
with its HTTP status, replayed under its webhook-id once the subscriber is mended, and the subscriber
removed; a private address is refused when the settings do not allow it; the audit log names the
operator for each change."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from outreach.cli.main import app
from tests.outreach.helpers import CAMPAIGN_YAML
from tests.outreach.webhooks_out.subscriber import LoopbackSubscriber


async def invoke(cli: CliRunner, args: list[str]) -> Result:
    return await asyncio.to_thread(cli.invoke, app, args)


async def test_subscribe_deliver_replay_and_remove_from_the_command_line(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    refused = await invoke(cli, ["subscribers", "add", "https://127.0.0.1/x", "--event", "response.created"])
    assert refused.exit_code == 1 and "127.0.0.1 is not a public address" in refused.output
    monkeypatch.setenv("OUTREACH_WEBHOOKS_ALLOW_HTTP", "true")
    monkeypatch.setenv("OUTREACH_WEBHOOKS_ALLOW_PRIVATE", "true")
    campaign_file = tmp_path / "tram.yaml"
    campaign_file.write_text(CAMPAIGN_YAML, encoding="utf-8")
    async with LoopbackSubscriber(failures=None) as subscriber:
        unknown = await invoke(
            cli, ["subscribers", "add", subscriber.url, "--event", "response.created", "--campaign", "x"]
        )
        assert unknown.exit_code == 1 and "no campaign 'x'" in unknown.output
        added = await invoke(cli, ["subscribers", "add", subscriber.url, "--event", "campaign.status_changed"])
        assert added.exit_code == 0, added.output
        (secret,) = added.stdout.split()  # the secret alone on standard output
        assert secret.startswith("whsec_")
        subscriber.secrets = [secret]
        for args in (
            ["campaign", "create", str(campaign_file)],
            ["campaign", "launch", "1"],
            ["dispatch", "--until-idle"],
        ):
            done = await invoke(cli, args)
            assert done.exit_code == 0, done.output
        failed = await invoke(cli, ["subscribers", "deliveries", "1"])
        assert "  pending  campaign.status_changed  msg_" in failed.stdout and "HTTP 500" in failed.stdout
        first_id = subscriber.posts[0].headers["webhook-id"]

        subscriber.failures = 0  # mended
        assert (await invoke(cli, ["subscribers", "replay", "1"])).exit_code == 0
        assert (await invoke(cli, ["dispatch", "--until-idle"])).exit_code == 0
        delivered = await invoke(cli, ["subscribers", "deliveries", "1", "--status", "delivered"])
        assert f"  delivered  campaign.status_changed  {first_id}  attempts 1  200" in delivered.stdout
        assert [post.headers["webhook-id"] for post in subscriber.delivered()] == [first_id]

        listed = await invoke(cli, ["subscribers", "list"])
        assert listed.stdout.startswith(f"1  active  campaign.status_changed  all campaigns  {subscriber.url}")
        assert secret not in listed.stdout
        assert (await invoke(cli, ["subscribers", "remove", "1"])).exit_code == 0
        assert "no subscribers" in (await invoke(cli, ["subscribers", "list"])).stdout
    audit = (await invoke(cli, ["audit", "--action", "webhook."])).stdout
    assert ["webhook.unsubscribe" in audit, "webhook.replay" in audit, "webhook.subscribe" in audit] == [True] * 3
