"""An API client over a real socket, tokens per scope, and settings with the API's own knobs."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from outreach.bootstrap import Services
from outreach.settings import Settings
from outreach.web.app import create_app
from tests.conftest import SANDBOX_SECRET
from tests.outreach.web.api.helpers import Monotonic

AppClient = TestClient[web.Request, web.Application]


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, sandbox_secret=SANDBOX_SECRET, _env_file=None)


@pytest.fixture
def monotonic() -> Monotonic:
    return Monotonic()


@pytest.fixture
async def api(services: Services, monotonic: Monotonic) -> AsyncIterator[AppClient]:
    app = create_app(services, run_background=False, api_clock=monotonic)
    async with TestClient(TestServer(app)) as client:
        yield client
