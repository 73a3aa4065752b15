"""The service as the demo runs it: configured by the demo alone (Twilio SMS and a Telegram bot in
webhook mode pointing at the stand-ins, generous rates, no mail settings), on a fresh SQLite file,
and on an accelerated clock launched on a Tuesday evening."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import SecretStr
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from outreach.demo.providers import SMS_SENDER, Providers
from outreach.settings import Settings

# Simulated time: launched on a Tuesday evening in Gdańsk, after quiet hours began, at two simulated
# hours per real second: the night hold (till 08:00), the reminder (24 h) and the end of the answer
# window (48 h) all show within the minute.
DEMO_START = datetime(2027, 3, 2, 21, 30, tzinfo=ZoneInfo("Europe/Warsaw"))
DEMO_SPEED = 7200.0
DEMO_RATE = 1000.0  # sends per second the demo's stand-ins accept
DISPATCHER_POLL_SECONDS = 0.05  # the next question goes out right after an answer, not a second later
LIFECYCLE_INTERVAL_SECONDS = 0.2  # real seconds: 24 simulated minutes


def sqlite_url(database: Path) -> str:
    return f"sqlite+aiosqlite:///{database}"


def fresh_database(database: Path) -> Path:
    """The absolute path (the closing hints work from any folder), with any earlier demo removed."""
    database = database.resolve()
    for suffix in ("", "-wal", "-shm", "-journal"):
        database.with_name(database.name + suffix).unlink(missing_ok=True)
    return database


class DemoSettings(Settings):
    """Settings given by the demo alone. OUTREACH_* variables and a .env never reach it: a real SMTP
    relay, Twilio number or bot in the environment must not meet the simulated residents."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def demo_settings(database: Path, providers: Providers) -> Settings:
    """The service configured for Twilio SMS and a Telegram bot in webhook mode, as in production,
    with the providers' API URLs pointing at the stand-ins. No mail settings: email is off."""
    return DemoSettings(
        database_url=sqlite_url(database),
        public_url=providers.public_url,
        twilio_account_sid=providers.twilio.account_sid,
        twilio_auth_token=SecretStr(providers.twilio.auth_token),
        twilio_from=SMS_SENDER,
        twilio_api_url=providers.twilio.base_url,
        telegram_bot_token=SecretStr(providers.telegram.token),
        telegram_webhook_secret=SecretStr(providers.telegram_secret),
        telegram_api_url=providers.telegram.base_url,
        telegram_mode="webhook",
        dispatcher_poll_seconds=DISPATCHER_POLL_SECONDS,
        lifecycle_interval_seconds=LIFECYCLE_INTERVAL_SECONDS,
        # Provider limits run on the wall clock, not the demo's accelerated one: a simulated day of
        # sends must fit a real minute, so the stand-ins are treated as generous providers.
        rate_sms_segments_per_second=DEMO_RATE,
        rate_telegram_per_second=DEMO_RATE,
        rate_telegram_per_chat_per_second=DEMO_RATE,
    )
