"""Outgoing webhooks, measured: what an event costs the transaction that writes it (with no subscriber:
the EXISTS that finds none; with one: the row), and how fast one worker fans out, signs and posts to a
loopback subscriber that answers at once. SQLite file and a scratch PostgreSQL database.

    python bench/webhooks.py [--events 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

from aiohttp import web

from bench.scratch_postgres import scratch_postgres
from flows.loader import load_campaign
from outreach.audit import Actor
from outreach.bootstrap import bootstrap
from outreach.campaigns.commands import create_campaign
from outreach.settings import Settings
from storage.db import create_engine
from storage.migrate import upgrade
from storage.webhook_events import CAMPAIGN_STATUS_CHANGED, record_event

CAMPAIGN = "name: Bench\nlanguages: [pl]\nchannels: [sms]\nquestions:\n  - {id: q, type: yesno, text: {pl: Tak?}}\n"


async def _subscriber() -> tuple[web.AppRunner, str, list[int]]:
    received: list[int] = []

    async def receive(request: web.Request) -> web.Response:
        received.append(len(await request.read()))
        return web.Response()

    app = web.Application()
    app.router.add_post("/hooks", receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    assert site._server is not None
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    return runner, f"http://127.0.0.1:{port}/hooks", received


async def _events(services_url: str, events: int) -> dict[str, float]:
    engine = create_engine(services_url)
    await upgrade(engine)
    await engine.dispose()
    settings = Settings(
        database_url=services_url, webhooks_allow_http=True, webhooks_allow_private=True, _env_file=None
    )
    services = bootstrap(settings, worker_id="bench")
    runner, url, received = await _subscriber()
    try:
        record = await create_campaign(services.sessions, load_campaign(CAMPAIGN), clock=services.clock)
        assert record.id is not None
        figures: dict[str, float] = {}
        for label in ("no subscriber", "one subscriber"):
            if label == "one subscriber":
                await services.subscriptions.subscribe(Actor.cli(), url=url, events=[CAMPAIGN_STATUS_CHANGED])
            started = time.perf_counter()
            for number in range(events):  # one transaction each, as each answer has its own
                async with services.sessions() as session, session.begin():
                    facts = {"from": "active", "to": str(number)}
                    now = services.clock()
                    await record_event(session, CAMPAIGN_STATUS_CHANGED, campaign_id=record.id, facts=facts, now=now)
            figures[f"event write, {label} (ms per transaction)"] = (time.perf_counter() - started) * 1000 / events
        started = time.perf_counter()
        handled = await services.webhooks.drain()
        elapsed = time.perf_counter() - started
        assert len(received) == events, (len(received), handled)
        figures["fan out + sign + post (deliveries/s, one worker)"] = events / elapsed
        return figures
    finally:
        await runner.cleanup()
        await services.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=2000)
    events = parser.parse_args().events
    print(f"load average {os.getloadavg()[0]:.1f}, {events} events", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        for name, value in asyncio.run(_events(url, events)).items():
            print(f"SQLite      {name}: {value:,.2f}", flush=True)
    with scratch_postgres("outreach_bench_webhooks") as postgres:
        if postgres is not None:
            address = postgres.render_as_string(hide_password=False)
            for name, value in asyncio.run(_events(address, events)).items():
                print(f"PostgreSQL  {name}: {value:,.2f}", flush=True)
    print(f"load average {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
