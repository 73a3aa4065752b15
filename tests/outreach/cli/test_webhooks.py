"""`outreach webhooks`: the URL each provider must be given, from the public base URL, with Twilio's
retry override on the inbound SMS webhook (without it Twilio does not retry our 503)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from outreach.cli.main import app
from tests.providers import SMS_FROM, TELEGRAM_BOT_TOKEN, TELEGRAM_WEBHOOK_SECRET, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN

PUBLIC = "https://konsultacje.gdansk.pl"
TWILIO = {
    "OUTREACH_TWILIO_ACCOUNT_SID": TWILIO_ACCOUNT_SID,
    "OUTREACH_TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
    "OUTREACH_TWILIO_FROM": SMS_FROM,
}
TELEGRAM = {
    "OUTREACH_TELEGRAM_BOT_TOKEN": TELEGRAM_BOT_TOKEN,
    "OUTREACH_TELEGRAM_WEBHOOK_SECRET": TELEGRAM_WEBHOOK_SECRET,
}


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    monkeypatch.setenv("OUTREACH_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/outreach.db")
    return CliRunner()


def urls(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if not line.startswith(" ")]


def test_twilio_is_given_its_inbound_url_with_the_retry_override(cli: CliRunner) -> None:
    result = cli.invoke(app, ["webhooks"], env={"OUTREACH_PUBLIC_URL": PUBLIC + "/", **TWILIO, **TELEGRAM})
    assert result.exit_code == 0, result.output
    assert urls(result.stdout) == [
        f"sms: {PUBLIC}/webhooks/twilio/sms#rc=5&rp=all",
        f"sms delivery: {PUBLIC}/webhooks/twilio/status#rc=5&rp=all",
        f"telegram: {PUBLIC}/webhooks/telegram",
    ]
    assert '"A message comes in"' in result.stdout and "setWebhook" in result.stdout
    assert result.stderr == ""
    assert TWILIO_AUTH_TOKEN not in result.output and TELEGRAM_BOT_TOKEN not in result.output


def test_telegram_polling_has_no_webhook_to_set(cli: CliRunner) -> None:
    env = {"OUTREACH_PUBLIC_URL": PUBLIC, "OUTREACH_TELEGRAM_MODE": "polling", **TELEGRAM}
    result = cli.invoke(app, ["webhooks"], env=env)
    assert urls(result.stdout) == [f"telegram: {PUBLIC}/webhooks/telegram"]
    assert "none: OUTREACH_TELEGRAM_MODE=polling" in result.stdout


def test_without_providers_the_sandbox_is_named_and_a_local_address_is_warned_of(cli: CliRunner) -> None:
    result = cli.invoke(app, ["webhooks"], env={"OUTREACH_PUBLIC_URL": "http://127.0.0.1:8080"})
    assert result.exit_code == 0, result.output
    assert urls(result.stdout) == ["sandbox: http://127.0.0.1:8080/webhooks/sandbox/{channel}"]
    assert "OUTREACH_PUBLIC_URL is http://127.0.0.1:8080: providers need a public https:// address" in result.stderr
