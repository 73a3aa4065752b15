"""The wiring: which channels serve, and the one start-up line that says so."""

from __future__ import annotations

import logging

import pytest

from channels.sandbox import SandboxChannel
from channels.twilio_sms import TwilioChannel
from outreach.bootstrap import ADDRESS_KINDS, Services, announce_channels, announce_keys, bootstrap, describe_channels
from outreach.settings import Settings
from tests.providers import PRODUCTION_SETTINGS


async def test_development_without_providers_runs_the_sandbox_and_says_so_in_one_line(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    assert sorted(services.sandboxes) == sorted(ADDRESS_KINDS)
    assert all(isinstance(services.channels[kind], SandboxChannel) for kind in ADDRESS_KINDS)
    caplog.set_level(logging.INFO)
    announce_channels(services)
    [line] = caplog.records
    assert line.levelno == logging.WARNING and line.getMessage() == describe_channels(services)
    assert line.getMessage() == (
        "development: no provider configured, so the sandbox serves sms, whatsapp, telegram, email: messages"
        " are recorded as sent and reach nobody (OUTREACH_ENV=production never does this)"
    )


async def test_production_names_its_providers_and_what_is_off(database_url: str) -> None:
    services = bootstrap(Settings(**PRODUCTION_SETTINGS, database_url=database_url, _env_file=None))
    try:
        assert services.sandboxes == {} and list(services.channels) == ["sms"]
        assert isinstance(services.channels["sms"], TwilioChannel)
        assert describe_channels(services) == (
            "production: providers serve sms; whatsapp, telegram, email off (no provider); no sandbox"
        )
    finally:
        await services.close()


async def test_production_never_runs_the_sandbox_even_with_settings_that_skipped_their_checks(
    database_url: str,
) -> None:
    """Settings refuse production without a provider; the wiring holds the line on its own too."""
    keys = Settings(**PRODUCTION_SETTINGS, _env_file=None)
    fields = Settings(database_url=database_url, _env_file=None).model_dump() | {
        "env": "production",
        "encryption_keys": keys.encryption_keys,
        "blind_index_key": keys.blind_index_key,
    }
    unchecked = Settings.model_construct(**fields)
    services = bootstrap(unchecked)
    try:
        assert services.sandboxes == {} and services.channels == {}
    finally:
        await services.close()


async def test_development_without_keys_says_loudly_that_addresses_are_under_the_public_key(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    announce_keys(services)
    [line] = caplog.records
    assert line.levelno == logging.WARNING
    assert "public development key, which protects nothing" in line.getMessage()
    assert services.sessions.kw["info"]["address_keys"].keyring is services.keyring  # what storage seals with


async def test_production_names_its_key_ids_never_a_key(database_url: str, caplog: pytest.LogCaptureFixture) -> None:
    services = bootstrap(Settings(**PRODUCTION_SETTINGS, database_url=database_url, _env_file=None))
    try:
        caplog.set_level(logging.INFO)
        announce_keys(services)
        [line] = caplog.records
        assert (line.levelno, line.getMessage()) == (logging.INFO, "addresses at rest: encryption keys k1 (current k1)")
    finally:
        await services.close()
