"""The provider SDKs' HTTP logs (which name the bot token and the Twilio credentials) are silenced
while the demo runs, and restored afterwards."""

from __future__ import annotations

import logging

from outreach.demo.providers import provider_logs_silenced


def test_provider_logs_are_silenced_while_the_demo_runs() -> None:
    names = ("twilio.http_client", "twilio.async_http_client", "httpx", "telegram.Bot", "telegram.ext")
    before = {name: logging.getLogger(name).getEffectiveLevel() for name in names}
    with provider_logs_silenced():
        for name in names:
            assert not logging.getLogger(name).isEnabledFor(logging.CRITICAL), name
    assert {name: logging.getLogger(name).getEffectiveLevel() for name in names} == before
