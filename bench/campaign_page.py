"""The campaign page's live part (GET /admin/campaigns/{slug}/live, what the page fetches every 10 s)
on a campaign of 1,000,000 stored answers (200,000 respondents, five questions, one of them free text),
weighted to its sample's margins by district and age band, on SQLite and PostgreSQL.

    .venv/bin/python bench/campaign_page.py            # several minutes; writes docs/BENCHMARKS.md
    .venv/bin/python bench/campaign_page.py --quick    # 100,000 answers, for a look (writes nothing)

The data is bench/weighted_results.py's (its `fill`), the campaign naming its margins so the page
weighs it. Timed, best and median of a few runs: the whole fragment over HTTP as a logged-in viewer,
first from an app that has kept nothing (a first visit: weighting, meter and free-text groups made),
then as the page refreshes it (those kept, outreach.web.admin.results_panels.SlowFiguresCache), and
each part the fragment reads, so a slow one can be named.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient, TestServer
from report_sections import write_section
from sqlalchemy import text
from sqlalchemy.engine import make_url
from weighted_results import CAMPAIGN, POSTGRES_URL, Timing, bench_margins, fill, on_both, timed

from flows.answer_labels import question_types
from outreach.bootstrap import bootstrap
from outreach.clock import system_clock
from outreach.officials.accounts import account_policy, add_official, set_password
from outreach.participation.reports import campaign_meter
from outreach.results.free_text import free_text_results
from outreach.results.weighted import weighted_results
from outreach.settings import Settings
from outreach.web.admin.results_panels import weighting_of
from outreach.web.app import create_app
from storage.db import create_engine, read_session
from storage.migrate import upgrade
from storage.read_models import campaign_results
from storage.response_rates import asked_by_hour, first_answers_by_hour, rate_cells

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "docs" / "BENCHMARKS.md"
BEGIN, END = "<!-- campaign-page:begin -->", "<!-- campaign-page:end -->"
RUNS = 3
WEIGHTED_CAMPAIGN = CAMPAIGN.replace(
    "questions:", "audience:\n  sample: {size: 200000, strata: [district, age_band], margins: bench-city}\nquestions:"
)
EMAIL, PASSWORD = "bench@example.org", "a benchmark password"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
TARGET = 2.0  # seconds for the fragment: "one campaign of 1,000,000 answers must not take seconds"

Rows = list[tuple[str, Timing]]


def _load() -> str:
    return ", ".join(f"{figure:.2f}" for figure in os.getloadavg())


async def measure(url: str, backend: str, answers: int) -> Rows:
    engine = create_engine(url)
    await upgrade(engine)
    await engine.dispose()
    services = bootstrap(Settings(database_url=url, sandbox_secret="bench", _env_file=None), clock=system_clock)
    try:
        started = time.perf_counter()
        record = await fill(services.sessions, bench_margins(), answers, campaign=WEIGHTED_CAMPAIGN)
        print(f"{backend}: {answers:,} answers stored in {time.perf_counter() - started:.0f} s", flush=True)
        if backend == "PostgreSQL":
            engine = create_engine(url)
            async with engine.connect() as connection:
                await connection.execution_options(isolation_level="AUTOCOMMIT")
                await connection.execute(text("VACUUM ANALYZE"))
            await engine.dispose()
        policy = account_policy(services.settings)
        token = await add_official(services.sessions, EMAIL, "viewer", now=system_clock(), policy=policy)
        await set_password(services.sessions, token, PASSWORD, now=system_clock())
        assert record.id is not None
        campaign_id = record.id
        flow = services.definitions.flow(record)
        request = weighting_of(flow)
        assert request is not None
        print(f"{backend}: load average before timing {_load()}", flush=True)
        clients: list[TestClient[Any, Any]] = []

        async def logged_in() -> TestClient[Any, Any]:
            """A client of a new app (so nothing kept from an earlier request), logged in as the viewer."""
            client: TestClient[Any, Any] = TestClient(
                TestServer(create_app(services, run_background=False), host="127.0.0.1")
            )
            await client.start_server()
            clients.append(client)
            form = await (await client.get("/admin/login")).text()
            csrf = CSRF.search(form)
            assert csrf is not None
            login = await client.post(
                "/admin/login",
                data={"csrf": csrf.group(1), "email": EMAIL, "password": PASSWORD},
                allow_redirects=False,
            )
            assert login.status == 303, login.status
            return client

        async def get_fragment(client: TestClient[Any, Any]) -> None:
            response = await client.get(f"/admin/campaigns/{record.slug}/live")
            assert response.status == 200 and 'id="w-visits"' in await response.text()

        cold_runs: list[tuple[float, float]] = []
        for _ in range(RUNS):
            client = await logged_in()
            start, start_cpu = time.perf_counter(), time.process_time()
            await get_fragment(client)
            cold_runs.append((time.perf_counter() - start, time.process_time() - start_cpu))
        best = min(cold_runs)
        cold = Timing(best[0], statistics.median(wall for wall, _ in cold_runs), best[1])
        warm_client = clients[-1]  # its app keeps what the last cold request made

        async def rates() -> None:
            async with read_session(services.sessions) as session:
                await rate_cells(session, campaign_id)
                await asked_by_hour(session, campaign_id)
                await first_answers_by_hour(session, campaign_id)

        async def counts() -> None:
            async with read_session(services.sessions) as session:
                await campaign_results(session, campaign_id, question_types(flow))

        parts: list[tuple[str, Callable[[], Awaitable[object]]]] = [
            (
                "the live fragment, refreshed (weighting, rates, meter, free text kept)",
                lambda: get_fragment(warm_client),
            ),
            ("per-question counts (campaign_results)", counts),
            ("response rates: by channel and district, asked and first answers by hour", rates),
            (
                "weighted results (weighted_results)",
                lambda: weighted_results(services.sessions, record, flow, request, k=5),
            ),
            ("free-text groups (free_text_results)", lambda: free_text_results(services.sessions, record, flow)),
            ("who answered: the meter (campaign_meter)", lambda: campaign_meter(services.sessions, record, k=5)),
        ]
        rows = [("the live fragment over HTTP, first request (everything made)", cold)]
        rows += [(name, await timed(work, RUNS)) for name, work in parts]
        for client in clients:
            await client.close()
        for name, timing in rows:
            print(f"{backend}: {name}: best {timing.best:.3f} s (CPU {timing.cpu:.3f} s), median {timing.median:.3f} s")
        print(f"{backend}: load average after timing {_load()}", flush=True)
        return rows
    finally:
        await services.close()


async def on_sqlite(answers: int) -> Rows:
    with tempfile.TemporaryDirectory() as folder:
        return await measure(f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}", "SQLite", answers)


async def on_postgres(answers: int) -> Rows | None:
    admin = make_url(POSTGRES_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"outreach_bench_{uuid.uuid4().hex[:8]}"
    try:
        connection = await asyncpg.connect(admin, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        print(f"PostgreSQL unreachable ({type(error).__name__}): its rows are left out", flush=True)
        return None
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    try:
        return await measure(
            make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False), "PostgreSQL", answers
        )
    finally:
        connection = await asyncpg.connect(admin, timeout=3)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()


def table(answers: int, results: dict[str, Rows]) -> str:
    lines = [
        f"| backend | what ({answers:,} answers, {answers // 5:,} respondents) | best | median | CPU (best run) |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for backend, rows in results.items():
        for name, timing in rows:
            lines.append(f"| {backend} | {name} | {timing.best:.3f} s | {timing.median:.3f} s | {timing.cpu:.3f} s |")
    said = [
        f"{backend} {rows[1][1].best:.2f} s refreshed, {rows[0][1].best:.2f} s on a first request"
        for backend, rows in results.items()
    ]
    return "\n".join(lines) + f"\n\nTarget: the fragment under {TARGET:g} s. This run: " + "; ".join(said) + "."


def write_report(body: str) -> None:
    section = (
        f"{BEGIN}\n## The campaign page's live part (`bench/campaign_page.py`)\n\n"
        "Reproduce: `.venv/bin/python bench/campaign_page.py` (PostgreSQL rows need the server of "
        "`OUTREACH_TEST_POSTGRES_URL`). The data of bench/weighted_results.py, the campaign naming its margins "
        "so the page weighs it; GET /admin/campaigns/{slug}/live as a logged-in viewer, and each part it reads.\n\n"
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, {os.cpu_count()} CPUs (load "
        f"average {_load()} when the run ended), Python {platform.python_version()}; best and median of {RUNS} "
        "runs each.\n\n"
        f"{body}\n{END}"
    )
    write_section(REPORT, BEGIN, END, section)


async def run(answers: int) -> dict[str, Rows]:
    return await on_both(on_sqlite, on_postgres, answers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--answers", type=int, default=1_000_000, help="answers to store (five per respondent)")
    parser.add_argument("--quick", action="store_true", help="at most 100,000 answers, no report written")
    arguments = parser.parse_args()
    answers = min(arguments.answers, 100_000) if arguments.quick else arguments.answers
    body = table(answers, asyncio.run(run(answers)))
    print()
    print(body)
    if not arguments.quick:
        write_report(body)
        print(f"\nwritten to {REPORT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
