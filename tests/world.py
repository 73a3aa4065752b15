"""The service as the tests run it, in one factory: settings, `bootstrap`, the web app on a real socket,
and the provider stand-ins it talks to (instead of a copy of that wiring in each test module).

`open_world(database_url, clock, twilio=True, telegram=True, smtp=True, **settings)` starts the
stand-ins asked for, configures the service for them with the constants of tests/providers.py (then
`settings`, any Settings fields, win), bootstraps it and serves its app at its public URL, the URL
providers are told to call and sign. With no provider the sandbox channels serve every address kind.

`store_outage(services)` takes the service's database away for real while inside it.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.engine import make_url

from channels.standins.telegram import TelegramStandIn
from channels.standins.twilio import TwilioStandIn
from outreach.bootstrap import Services, bootstrap
from outreach.clock import Clock
from outreach.settings import Settings
from outreach.telemetry import NO_TELEMETRY, Telemetry
from outreach.web.app import create_app
from storage.db import is_sqlite
from tests import providers
from tests.conftest import POSTGRES_URL, admin_dsn
from tests.servers.ports import bound_socket
from tests.servers.smtp import SmtpServer

AppClient = TestClient[web.Request, web.Application]


@dataclass
class World:
    """The running service, its HTTP client, and the stand-ins it was opened with."""

    services: Services
    client: AppClient
    public_url: str
    twilio_standin: TwilioStandIn | None = None
    telegram_standin: TelegramStandIn | None = None
    smtp_server: SmtpServer | None = None

    def url(self, path: str) -> str:
        """The public URL of `path`: what a provider calls (and signs)."""
        return self.public_url + path

    @property
    def twilio(self) -> TwilioStandIn:
        if self.twilio_standin is None:
            raise AssertionError("this world was opened without twilio=True")
        return self.twilio_standin

    @property
    def telegram(self) -> TelegramStandIn:
        if self.telegram_standin is None:
            raise AssertionError("this world was opened without telegram=True")
        return self.telegram_standin

    @property
    def smtp(self) -> SmtpServer:
        if self.smtp_server is None:
            raise AssertionError("this world was opened without smtp=True")
        return self.smtp_server


@asynccontextmanager
async def open_world(
    database_url: str,
    clock: Clock,
    *,
    twilio: bool = False,
    telegram: bool = False,
    smtp: bool = False,
    background: bool = False,
    worker_id: str | None = None,
    api_clock: Callable[[], float] = time.monotonic,
    telemetry: Telemetry = NO_TELEMETRY,
    **settings: Any,
) -> AsyncIterator[World]:
    """The service on `database_url` with the stand-ins asked for, its app served on 127.0.0.1 (with the
    dispatcher and scheduler running beside it when `background`; counting in `telemetry`, as `serve`
    does with its Prometheus one); all of it stopped on exit."""
    async with AsyncExitStack() as stack:
        environment = stack.enter_context(pytest.MonkeyPatch.context())
        # Bound now and handed to the server: the public URL is needed before the app exists.
        listener = stack.enter_context(bound_socket())
        port = listener.getsockname()[1]
        public_url = f"http://127.0.0.1:{port}"
        # A spool of its own (outreach.inbound.spool), not the default in the working directory.
        own_dir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        spool_dir, import_dir = own_dir / "spool", own_dir / "imports"  # API uploads (import jobs) too
        fields: dict[str, Any] = {
            "database_url": database_url,
            "public_url": public_url,
            "spool_dir": spool_dir,
            "import_dir": import_dir,
        }
        twilio_standin = telegram_standin = smtp_server = None
        if twilio:
            # The SDK sends to the regional edge these name; the stand-in must be the only edge.
            environment.delenv("TWILIO_REGION", raising=False)
            environment.delenv("TWILIO_EDGE", raising=False)
            twilio_standin = await stack.enter_async_context(
                TwilioStandIn(account_sid=providers.TWILIO_ACCOUNT_SID, auth_token=providers.TWILIO_AUTH_TOKEN)
            )
            fields |= {
                "twilio_account_sid": providers.TWILIO_ACCOUNT_SID,
                "twilio_auth_token": providers.TWILIO_AUTH_TOKEN,
                "twilio_from": providers.SMS_FROM,
                "twilio_api_url": twilio_standin.base_url,
            }
        if telegram:
            telegram_standin = await stack.enter_async_context(TelegramStandIn(providers.TELEGRAM_BOT_TOKEN))
            fields |= {
                "telegram_bot_token": providers.TELEGRAM_BOT_TOKEN,
                "telegram_webhook_secret": providers.TELEGRAM_WEBHOOK_SECRET,
                "telegram_api_url": telegram_standin.base_url,
            }
        if smtp:
            smtp_server = await stack.enter_async_context(SmtpServer())
            fields |= {
                "smtp_host": "127.0.0.1",
                "smtp_port": smtp_server.port,
                "smtp_user": smtp_server.user,
                "smtp_password": smtp_server.password,
                "smtp_from": providers.EMAIL_FROM,
                "smtp_tls": "none",
                "email_reply_domain": providers.REPLY_DOMAIN,
                "email_token_secret": providers.EMAIL_TOKEN_SECRET,
            }
        services = bootstrap(
            Settings(**(fields | settings), _env_file=None), clock=clock, worker_id=worker_id, telemetry=telemetry
        )
        stack.push_async_callback(services.close)  # after the app stopped, before the stand-ins stop
        app = create_app(services, run_background=background, api_clock=api_clock)
        # No access log, as `outreach serve` runs it (request paths carry link tokens).
        server = TestServer(app, host="127.0.0.1", port=port, access_log=None, socket_factory=lambda *_: listener)
        stack.push_async_callback(server.close)  # also when the client never started: the app's cleanup runs
        client = await stack.enter_async_context(TestClient(server))
        yield World(services, client, public_url, twilio_standin, telegram_standin, smtp_server)


@asynccontextmanager
async def store_outage(services: Services) -> AsyncIterator[None]:
    """The services' database is down while inside, for real (nothing of ours is replaced), and back after.

    The pool is emptied first, so no connection opened before lives through the outage. SQLite: the
    file goes away and a folder stands at its path, so no connection opens (nor creates a new file).
    PostgreSQL: the server refuses connections to the database and ends any still open.
    """
    await services.engine.dispose()
    if (inbound_engine := services.__dict__.get("inbound_engine")) is not None:  # made when first used
        await inbound_engine.dispose()
    url = make_url(services.settings.database_url)
    assert url.database
    if is_sqlite(services.settings.database_url):
        with _sqlite_file_gone(Path(url.database)):
            yield
        return
    async with _postgres_refusing(url.database):
        yield


@contextmanager
def _sqlite_file_gone(path: Path) -> Iterator[None]:
    moved = [
        (file, file.with_name(file.name + ".away"))
        for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"))
        if file.exists()
    ]
    for file, away in moved:
        os.replace(file, away)
    path.mkdir()
    try:
        yield
    finally:
        path.rmdir()
        for file, away in moved:
            os.replace(away, file)


@asynccontextmanager
async def _postgres_refusing(database: str) -> AsyncIterator[None]:
    admin = await asyncpg.connect(admin_dsn(POSTGRES_URL), timeout=3)
    try:
        await admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
        try:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                database,
            )
            yield
        finally:
            await admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
    finally:
        await admin.close()
