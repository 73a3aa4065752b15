"""The service as the webhook tests run it: allowed to post to loopback over http (the test subscriber
is on this machine), on each selected database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from outreach.bootstrap import Services, bootstrap
from outreach.settings import Settings
from tests.conftest import ManualClock
from tests.providers import SANDBOX_SECRET


@pytest.fixture
async def services(database_url: str, clock: ManualClock) -> AsyncIterator[Services]:
    """The service allowed to post to loopback over http (the subscriber is on this machine)."""
    settings = Settings(
        database_url=database_url,
        sandbox_secret=SANDBOX_SECRET,
        webhooks_allow_http=True,
        webhooks_allow_private=True,
        webhooks_pause_after=4,
        webhooks_max_attempts=3,
        _env_file=None,
    )
    wired = bootstrap(settings, clock=clock, worker_id="test-worker")
    yield wired
    await wired.close()
