"""An API client over a real socket: the app of `tests.world`, its rate limits timed by a clock moved
by hand, and the services it serves."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from outreach.bootstrap import Services
from tests.conftest import ManualClock
from tests.outreach.web.api.helpers import Monotonic
from tests.providers import SANDBOX_SECRET
from tests.world import AppClient as AppClient  # the API tests import it from here
from tests.world import World, open_world


@pytest.fixture
def monotonic() -> Monotonic:
    return Monotonic()


@pytest.fixture
async def world(database_url: str, clock: ManualClock, monotonic: Monotonic) -> AsyncIterator[World]:
    async with open_world(
        database_url, clock, worker_id="test-worker", api_clock=monotonic, sandbox_secret=SANDBOX_SECRET
    ) as opened:
        yield opened


@pytest.fixture
def services(world: World) -> Services:
    """The services the API serves (in place of conftest's, which no app serves)."""
    return world.services


@pytest.fixture
def api(world: World) -> AppClient:
    return world.client
