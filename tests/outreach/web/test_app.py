"""The HTTP app over a real socket: health, and the sandbox webhook as providers would call it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from channels.sandbox import SECRET_HEADER
from outreach.bootstrap import Services
from outreach.campaigns.lifecycle import Lifecycle, TickReport
from tests.conftest import ManualClock
from tests.factories import add_resident
from tests.outreach.helpers import inbound_outcomes, launch, responses
from tests.providers import SANDBOX_SECRET
from tests.world import AppClient, World, open_world

PHONE = "+48600100200"
# A port nothing listens on: the database is "down".
UNREACHABLE_DATABASE = "postgresql+asyncpg://postgres@127.0.0.1:9/test"


@pytest.fixture
async def world(database_url: str, clock: ManualClock) -> AsyncIterator[World]:
    async with open_world(database_url, clock, worker_id="test-worker", sandbox_secret=SANDBOX_SECRET) as opened:
        yield opened


@pytest.fixture
def services(world: World) -> Services:
    """The services the app serves (in place of conftest's, which no app serves)."""
    return world.services


@pytest.fixture
def client(world: World) -> AppClient:
    return world.client


@pytest.fixture
async def client_without_database(clock: ManualClock) -> AsyncIterator[AppClient]:
    async with open_world(UNREACHABLE_DATABASE, clock, sandbox_secret=SANDBOX_SECRET) as world:
        yield world.client


async def test_healthz_reports_ok_with_the_enabled_channels(client: AppClient) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok", "channels": ["email", "sms", "telegram", "whatsapp"]}


async def test_healthz_is_503_when_the_database_is_down(
    client_without_database: AppClient,
) -> None:
    response = await client_without_database.get("/healthz")
    assert response.status == 503


SIGNED = {SECRET_HEADER: SANDBOX_SECRET}
FORM = {"id": "SB-1", "from": PHONE, "text": "tak"}


@pytest.mark.parametrize(
    ("label", "path", "headers", "form", "status"),
    [
        ("signed reply", "/webhooks/sandbox/sms", SIGNED, FORM, 200),
        ("no secret", "/webhooks/sandbox/sms", {}, FORM, 403),
        ("wrong secret", "/webhooks/sandbox/sms", {SECRET_HEADER: "guess"}, FORM, 403),
        ("missing text", "/webhooks/sandbox/sms", SIGNED, {"id": "SB-2", "from": PHONE}, 400),
        ("empty id", "/webhooks/sandbox/sms", SIGNED, {**FORM, "id": ""}, 400),
        ("unknown channel", "/webhooks/sandbox/fax", SIGNED, FORM, 404),
    ],
)
async def test_sandbox_webhook_table(
    services: Services,
    client: AppClient,
    label: str,
    path: str,
    headers: dict[str, str],
    form: dict[str, str],
    status: int,
) -> None:
    await add_resident(services, phone=PHONE)
    await launch(services)
    response = await client.post(path, data=form, headers=headers)
    assert response.status == status, label
    expected = [("uses_tram", "yes")] if status == 200 else []
    assert await responses(services) == expected


async def test_a_webhook_retried_by_the_provider_counts_once(services: Services, client: AppClient) -> None:
    await add_resident(services, phone=PHONE)
    await launch(services)
    first = await client.post("/webhooks/sandbox/sms", data=FORM, headers=SIGNED)
    second = await client.post("/webhooks/sandbox/sms", data=FORM, headers=SIGNED)
    assert (first.status, second.status) == (200, 200)
    assert await first.json() == {"outcomes": ["answered"]}
    assert await second.json() == {"outcomes": ["duplicate"]}
    assert await responses(services) == [("uses_tram", "yes")]
    assert await inbound_outcomes(services) == ["answered"]


async def test_a_webhook_spools_its_reply_and_answers_200_when_the_database_is_down(clock: ManualClock) -> None:
    async with open_world(UNREACHABLE_DATABASE, clock, sandbox_secret=SANDBOX_SECRET) as world:
        response = await world.client.post("/webhooks/sandbox/sms", data=FORM, headers=SIGNED)
        assert (response.status, await response.json()) == (200, {"outcomes": ["spooled"]})
        assert len(world.services.spool.pending()) == 1  # applied when the database is back


async def test_a_webhook_answers_503_when_neither_the_database_nor_the_spool_takes_it(
    clock: ManualClock, tmp_path: Path
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    spool = tmp_path / "a-file" / "spool"
    async with open_world(UNREACHABLE_DATABASE, clock, sandbox_secret=SANDBOX_SECRET, spool_dir=spool) as world:
        response = await world.client.post("/webhooks/sandbox/sms", data=FORM, headers=SIGNED)
        assert response.status == 503  # the sender retries later


async def test_a_lifecycle_tick_running_at_stop_ends_before_the_services_close(
    database_url: str, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stopping lets the scheduler's running tick finish while the database is still open (APScheduler's
    shutdown alone cancels it and never awaits it: its connection then closed as the loop closed)."""
    ticking, release = asyncio.Event(), asyncio.Event()
    ended: list[TickReport] = []
    tick = Lifecycle.tick

    async def held_tick(lifecycle: Lifecycle) -> TickReport:
        ticking.set()
        await release.wait()
        report = await tick(lifecycle)
        ended.append(report)
        return report

    monkeypatch.setattr(Lifecycle, "tick", held_tick)
    world = open_world(database_url, clock, background=True, sandbox_secret=SANDBOX_SECRET)
    await world.__aenter__()
    await asyncio.wait_for(ticking.wait(), timeout=20)  # the scheduler's first tick, at start
    stopping = asyncio.create_task(world.__aexit__(None, None, None))
    for _ in range(100):
        await asyncio.sleep(0)
    assert not stopping.done()  # waiting for the tick
    release.set()
    await asyncio.wait_for(stopping, timeout=30)
    assert len(ended) == 1  # it ran to its end, on an open database
