"""`outreach serve` as an operator runs it: a separate process that binds, answers /healthz, runs the
lifecycle scheduler and the dispatcher, and stops cleanly on SIGTERM; `outreach work` beside it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from channels.base import Inbound
from outreach.bootstrap import Services
from outreach.campaigns.commands import create_campaign, launch_campaign
from outreach.settings import Settings
from outreach.web.server import bind_host
from storage.outbox import OutboxRepository
from tests.conftest import ManualClock
from tests.factories import add_resident
from tests.outreach.helpers import CAMPAIGN_YAML, launch, responses
from tests.providers import PRODUCTION_SETTINGS

READY_SECONDS = 30


async def _wait_for_line(process: asyncio.subprocess.Process, prefix: str) -> str:
    assert process.stdout is not None
    while True:
        line = (await asyncio.wait_for(process.stdout.readline(), READY_SECONDS)).decode()
        if not line:
            raise AssertionError("serve exited before it was ready")
        if line.startswith(prefix):
            return line.strip()


async def _outreach(database_url: str, folder: Path, *args: str, **settings: str) -> asyncio.subprocess.Process:
    """`outreach ARGS` as an operator starts it: an OS process on the test database, `settings` its
    OUTREACH_* environment beside the URL."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("OUTREACH_")}
    env.update(OUTREACH_DATABASE_URL=database_url, **settings)
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "outreach.cli", *args,
        env=env, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


async def _scraped(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """GET `url`/metrics: each sample's value by its name and labels."""
    async with aiohttp.ClientSession() as http, http.get(f"{url}/metrics") as response:
        assert response.status == 200
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(await response.text())
            for sample in family.samples
        }


async def _until(condition: Callable[[], Awaitable[bool]]) -> None:
    """Wait for the other process to act (polling its effect in the database, not a timer)."""
    async with asyncio.timeout(READY_SECONDS):
        while not await condition():  # noqa: ASYNC110 (another process acts: no Event to share)
            await asyncio.sleep(0.05)


@pytest.mark.parametrize(
    ("mode", "setting", "option", "bound", "why"),
    [
        ("development", None, None, "127.0.0.1", "development: loopback only, not for a network"),
        ("development", "0.0.0.0", None, "0.0.0.0", "development, as OUTREACH_HOST says"),
        ("development", None, "0.0.0.0", "0.0.0.0", "development, as --host says"),
        ("development", "10.0.0.5", "0.0.0.0", "0.0.0.0", "development, as --host says"),
        ("production", None, None, "0.0.0.0", "production: every interface"),
        ("production", "10.0.0.5", None, "10.0.0.5", "production, as OUTREACH_HOST says"),
    ],
)
def test_development_binds_loopback_unless_told_otherwise_and_says_why(
    mode: str, setting: str | None, option: str | None, bound: str, why: str
) -> None:
    fields: dict[str, Any] = PRODUCTION_SETTINGS | {"env": mode, "host": setting}
    settings = Settings(**fields, _env_file=None)
    host, reason = bind_host(settings, option)
    assert host == bound and reason.startswith(why)


@pytest.mark.slow
async def test_serve_binds_answers_health_starts_due_campaigns_and_stops_on_sigterm(
    services: Services, database_url: str, clock: ManualClock, tmp_path: Path
) -> None:
    from flows.loader import load_campaign

    # A campaign scheduled to start a minute ago (on the wall clock the serve process uses).
    clock.now = datetime.now(UTC).replace(microsecond=0)
    await add_resident(services, phone="+48600100200")
    start = (clock.now - timedelta(minutes=1)).isoformat()
    flow = load_campaign(CAMPAIGN_YAML + f"schedule:\n  start: {start}\n  quiet_hours: null\n")
    clock.now -= timedelta(minutes=2)
    record = await create_campaign(services.sessions, flow, clock=clock)
    assert (await launch_campaign(services.sessions, record.slug, clock=clock)).status == "scheduled"

    logs = {"OUTREACH_LOG_LEVEL": "WARNING", "OUTREACH_LOG_FORMAT": "json"}
    process = await _outreach(database_url, tmp_path, "serve", "--port", "0", **logs)
    try:
        ready = await _wait_for_line(process, "outreach listening on ")
        url, why = ready.removeprefix("outreach listening on ").split(" ", 1)
        assert url.startswith("http://127.0.0.1:") and why.startswith("(development: loopback only, not for a network")
        async with aiohttp.ClientSession() as http, http.get(f"{url}/healthz") as response:
            assert response.status == 200
            assert (await response.json())["status"] == "ok"

        async def question_sent() -> bool:
            async with services.sessions() as session:
                return await OutboxRepository(session).count_by_status() == {"sent": 1}

        await _until(question_sent)  # the scheduler started the campaign, the dispatcher sent it
        # Its /metrics: this process counted the send; the database's gauges show the empty queue.
        samples = await _scraped(url)
        assert samples[("outreach_sends_total", (("channel", "sms"),))] == 1
        assert samples[("outreach_outbox_depth", (("channel", "sms"), ("status", "queued")))] == 0
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), READY_SECONDS)
    assert process.returncode == 0, stderr.decode()
    # OUTREACH_LOG_FORMAT=json: every line is one JSON object (the sandbox warning among them).
    entries = [json.loads(line) for line in stderr.decode().splitlines()]
    assert any(entry["level"] == "WARNING" and "the sandbox serves" in entry["message"] for entry in entries), entries


@pytest.mark.slow
async def test_work_handles_what_a_web_process_stored_sends_serves_its_metrics_and_stops_on_sigterm(
    services: Services, database_url: str, clock: ManualClock, tmp_path: Path
) -> None:
    """`outreach work` (beside `serve --web-only`): a reply the web process stored and answered is taken
    and handled there, the questions are sent from there, and its own counters are on its /metrics."""
    clock.now = datetime.now(UTC)  # the worker runs on the wall clock: the launch's first send is due
    await add_resident(services, phone="+48600100200")
    await launch(services, CAMPAIGN_YAML + "schedule:\n  quiet_hours: null\n")
    process = await _outreach(database_url, tmp_path, "work", "--port", "0", OUTREACH_LOG_LEVEL="WARNING")
    try:
        ready = await _wait_for_line(process, "outreach working: ")
        url = ready.split(" on ", 1)[1].split(" ", 1)[0]

        async def sent(count: int) -> bool:
            async with services.sessions() as session:
                return await OutboxRepository(session).count_by_status() == {"sent": count}

        await _until(lambda: sent(1))  # the first question, sent by the worker's dispatcher
        # What `serve --web-only` does with a reply: stored free for any worker (this queue never runs).
        reply = Inbound(channel="sms", provider_id="SM1", address="+48600100200", text="tak", received_at=clock())
        assert (await services.inbound_queue.put(reply)).item is None

        async def answered() -> bool:
            return await responses(services) == [("uses_tram", "yes")]

        await _until(answered)
        await _until(lambda: sent(2))  # and the next question went out
        async with aiohttp.ClientSession() as http, http.get(f"{url}/healthz") as response:
            assert response.status == 200
        samples = await _scraped(url)
        assert samples[("outreach_sends_total", (("channel", "sms"),))] == 2
        assert samples[("outreach_inbound_queued", ())] == 0
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), READY_SECONDS)
    assert process.returncode == 0, stderr.decode()


@pytest.mark.parametrize(
    ("args", "host", "said"),
    [
        (("serve",), "127.0.0.1", "address already in use (another process listens there: stop it, or choose another"),
        (("work",), "127.0.0.1", "address already in use (another process listens there: stop it, or choose another"),
        (("serve", "--host", "192.0.2.1"), "192.0.2.1", "cannot assign requested address (not an address of this"),
    ],
)
async def test_a_port_it_cannot_listen_on_is_refused_in_one_line_after_a_clean_stop(
    services: Services, database_url: str, tmp_path: Path, args: tuple[str, ...], host: str, said: str
) -> None:
    """A port another process holds (or an address not this machine's, 192.0.2.1 being documentation's):
    the command says so in one line and exits 1, its workers stopped cleanly: no traceback, no error logged."""
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        process = await _outreach(
            database_url, tmp_path, *args, "--port", str(port), OUTREACH_LOG_LEVEL="WARNING", OUTREACH_LOG_FORMAT="json"
        )
        _, stderr = await asyncio.wait_for(process.communicate(), READY_SECONDS)
    lines = stderr.decode().splitlines()
    assert process.returncode == 1, lines
    assert lines[-1].startswith(f"cannot listen on {host}:{port}: {said}"), lines
    # Everything before it is a log line of the start-up (the sandbox's warnings), none an error.
    assert all(json.loads(line)["level"] == "WARNING" for line in lines[:-1]), lines
