"""Weighted-results benchmark: a campaign with 1,000,000 stored answers (200,000 respondents, five
questions), weighted to district and age band, on SQLite and PostgreSQL.

    .venv/bin/python bench/weighted_results.py            # a few minutes; writes docs/BENCHMARKS.md
    .venv/bin/python bench/weighted_results.py --quick    # 100,000 answers, for a look (writes nothing)

Each backend gets a fresh, migrated database (SQLite: a temporary file; PostgreSQL: a database of its
own on OUTREACH_TEST_POSTGRES_URL's server, dropped after) holding the residents (district by the
shipped Gdańsk margins, four age bands), their conversations, a recorded sample (inclusion
probabilities by age band) and the answers. Timed, best and median of several runs, next to their
baselines from the same database:

1. raw GROUP BY: the answers counted per question and value in one SQL statement (the least any
   results can cost), and per question, value, district and age band (what the weighting reads);
2. unweighted results: `storage.read_models.campaign_results`, what `outreach results` shows
   (target: under 1 s, issue 18);
3. weighted results: `outreach.results.weighted.weighted_results` by district and age band, what
   `outreach results --weights … --by district,age_band` and `?weights=` build (target: under 2 s).

The machine's load average is printed before and after each backend: these machines are shared, and
a figure means little without it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import numpy as np
from report_sections import write_section
from sqlalchemy import Text, cast, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col
from verdicts import Check, finish, ratio_check

from flows.answer_labels import question_types
from flows.loader import load_campaign
from outreach.campaigns.commands import create_campaign
from outreach.clock import system_clock
from outreach.results.weighted import weighted_results
from outreach.results.weighting_request import WeightingRequest
from outreach.survey.margins import Margins
from outreach.survey.margins_store import default_margins, save_margins
from storage.address_keys import address_keys
from storage.db import SessionFactory, create_engine, read_session, session_factory
from storage.migrate import upgrade
from storage.read_models import campaign_results
from storage.tables import (
    CampaignRecord,
    CampaignSample,
    ContactAddress,
    Conversation,
    Resident,
    Response,
    SampledResident,
)

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "docs" / "BENCHMARKS.md"
BEGIN, END = "<!-- weighted-results:begin -->", "<!-- weighted-results:end -->"
POSTGRES_URL = os.environ.get("OUTREACH_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
NOW = datetime(2027, 3, 2, 12, 0, tzinfo=UTC)
BATCH = 5000
RUNS = 5
Measured = TypeVar("Measured")  # what a benchmark measures on one backend

CAMPAIGN = """
name: Benchmark city
languages: [pl]
channels: [sms]
questions:
  - {id: visits, type: yesno, text: {pl: "Czy bywasz w parku?"}}
  - id: transport
    type: choice
    text: {pl: "Jak dojeżdżasz?"}
    options:
      - {key: bus, text: {pl: autobus}}
      - {key: tram, text: {pl: tramwaj}}
      - {key: bike, text: {pl: rower}}
      - {key: car, text: {pl: samochód}}
  - {id: rating, type: scale, min: 1, max: 5, text: {pl: "Ocena?"}, low: {pl: źle}, high: {pl: dobrze}}
  - id: wishes
    type: multi
    text: {pl: "Co dodać?"}
    options:
      - {key: benches, text: {pl: ławki}}
      - {key: trees, text: {pl: drzewa}}
      - {key: lights, text: {pl: światło}}
  - {id: idea, type: text, text: {pl: "Co zmienić?"}}
"""
AGE_BANDS = {"18-29": 80_000.0, "30-44": 120_000.0, "45-64": 150_000.0, "65+": 140_000.0}
# A stratified sample drew the young more often (they answer less): π per age band.
INCLUSION = {"18-29": 0.6, "30-44": 0.45, "45-64": 0.35, "65+": 0.3}


def bench_margins() -> Margins:
    districts = default_margins()
    return Margins(
        name="bench-city",
        dimensions={**districts.dimensions, "age_band": dict(AGE_BANDS)},
        labels=dict(districts.labels),
    )


@dataclass(frozen=True)
class Timing:
    best: float
    median: float
    cpu: float  # this process's CPU seconds (every thread: SQLite runs in aiosqlite's) in the best run


async def timed(work: Callable[[], Awaitable[object]], runs: int = RUNS) -> Timing:
    """Wall-clock seconds, best and median, and the CPU this process spent in the best run: on a
    shared, loaded machine the wall clock mostly measures the queue for a CPU, and the CPU time (all
    of the work on SQLite; the client's share on PostgreSQL) says what the code costs."""
    runs_taken: list[tuple[float, float]] = []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        await work()
        runs_taken.append((time.perf_counter() - start, time.process_time() - start_cpu))
    best = min(runs_taken)
    return Timing(best[0], statistics.median(wall for wall, _ in runs_taken), best[1])


async def fill(
    sessions: SessionFactory, margins: Margins, answers: int, seed: int = 16, campaign: str = CAMPAIGN
) -> CampaignRecord:
    """The campaign (or `campaign`, with the same questions), its residents, conversations, sample and
    answers (five per respondent)."""
    async with sessions() as session, session.begin():
        await save_margins(session, margins, source="bench", now=NOW)
    record = await create_campaign(sessions, load_campaign(campaign), clock=system_clock)
    assert record.id is not None
    rng = np.random.default_rng(seed)
    people = answers // 5
    district_keys = list(margins.dimensions["district"])
    district_shares = np.array(list(margins.shares("district").values()))
    districts = rng.choice(len(district_keys), size=people, p=district_shares)
    bands = rng.choice(len(AGE_BANDS), size=people, p=np.array(list(AGE_BANDS.values())) / sum(AGE_BANDS.values()))
    band_names = list(AGE_BANDS)
    labels = [margins.label("district", key) for key in district_keys]
    for start in range(0, people, BATCH):
        stop = min(start + BATCH, people)
        async with sessions() as session, session.begin():
            rows: list[dict[str, Any]] = [
                {
                    "pseudonym": f"b{index:09d}",
                    "language": "pl",
                    "attributes": {"district": labels[districts[index]], "age_band": band_names[bands[index]]},
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for index in range(start, stop)
            ]
            inserted = await session.execute(insert(Resident).returning(col(Resident.id)), rows)
            ids = [resident_id for resident_id in inserted.scalars() if resident_id is not None]
            keys = address_keys(session)
            addresses = [
                {"resident_id": rid, "channel": "sms", **keys.columns("sms", f"+48{index:09d}"), "created_at": NOW}
                for index, rid in zip(range(start, stop), ids, strict=True)
            ]
            contacts = list(
                (await session.execute(insert(ContactAddress).returning(col(ContactAddress.id)), addresses)).scalars()
            )
            await session.execute(
                insert(Conversation),
                [
                    {
                        "campaign_id": record.id,
                        "resident_id": rid,
                        "contact_id": contact,
                        "respondent": f"r{rid:09d}",
                        "state": {},
                        "status": "completed",
                        "started_at": NOW,
                        "updated_at": NOW,
                        "asked_at": NOW,
                    }
                    for rid, contact in zip(ids, contacts, strict=True)
                ],
            )
            if start == 0:
                session.add(CampaignSample(campaign_id=record.id, seed=seed, size=people, drawn_at=NOW))
                await session.flush()
            await session.execute(
                insert(SampledResident),
                [
                    {
                        "campaign_id": record.id,
                        "resident_id": rid,
                        "stratum": band_names[bands[index]],
                        "inclusion_probability": INCLUSION[band_names[bands[index]]],
                    }
                    for index, rid in zip(range(start, stop), ids, strict=True)
                ],
            )
            await session.execute(insert(Response), _answers(record.id, ids, rows, rng))
    return record


def _answers(
    campaign_id: int, ids: list[int], residents: list[dict[str, Any]], rng: np.random.Generator
) -> list[dict[str, Any]]:
    picks = rng.integers(0, 60, size=(len(ids), 4))
    answers: list[dict[str, Any]] = []
    for row, (rid, resident) in enumerate(zip(ids, residents, strict=True)):
        yes, transport, rating, wishes = picks[row].tolist()
        values: list[tuple[str, Any]] = [
            ("visits", "yes" if yes % 3 else "no"),
            ("transport", ("bus", "tram", "bike", "car")[transport % 4]),
            ("rating", rating % 5 + 1),
            ("wishes", [key for bit, key in enumerate(("benches", "trees", "lights")) if (wishes + 1) >> bit & 1]),
            ("idea", "więcej ławek"),
        ]
        answers.extend(
            {
                "campaign_id": campaign_id,
                "question_id": question,
                "resident_id": rid,
                "respondent": f"r{rid:09d}",
                "value": value,
                "channel": "sms",
                "answered_at": NOW,
                "language": "pl",
                "attributes": resident["attributes"],
                "inclusion_probability": INCLUSION[resident["attributes"]["age_band"]],
            }
            for question, value in values
        )
    return answers


async def measure(engine: AsyncEngine, backend: str, answers: int) -> list[tuple[str, str, Timing]]:
    await upgrade(engine)
    sessions = session_factory(engine)
    margins = bench_margins()
    started = time.perf_counter()
    record = await fill(sessions, margins, answers)
    print(f"{backend}: {answers:,} answers stored in {time.perf_counter() - started:.0f} s", flush=True)
    print(f"{backend}: load average before timing {_load()}", flush=True)
    if backend == "PostgreSQL":
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text("VACUUM ANALYZE"))
    assert record.id is not None
    campaign_id = record.id
    flow = load_campaign(CAMPAIGN)
    value = cast(col(Response.value), Text)
    district = col(Response.attributes)["district"].as_string()
    band = col(Response.attributes)["age_band"].as_string()

    async def raw(*extra: Any) -> None:
        async with read_session(sessions) as session:
            statement = (
                select(col(Response.question_id), value, *extra, func.count())
                .where(col(Response.campaign_id) == campaign_id)
                .group_by(col(Response.question_id), value, *extra)
            )
            (await session.execute(statement)).all()

    async def unweighted() -> None:
        async with read_session(sessions) as session:
            await campaign_results(session, campaign_id, question_types(flow))

    request = WeightingRequest(margins.name, ("district", "age_band"))

    async def weighted() -> None:
        await weighted_results(sessions, record, flow, request, k=5)

    figures = await weighted_results(sessions, record, flow, request, k=5)
    assert figures.weighted == answers // 5, figures.weighted
    rows = [
        ("raw GROUP BY question, value", "baseline", await timed(raw)),
        ("raw GROUP BY question, value, district, age band", "baseline", await timed(lambda: raw(district, band))),
        ("unweighted results (`outreach results`)", "campaign_results", await timed(unweighted)),
        (f"weighted results, {figures.method} by district × age band", "weighted_results", await timed(weighted)),
    ]
    for name, _, timing in rows:
        print(
            f"{backend}: {name}: best {timing.best:.3f} s (CPU {timing.cpu:.3f} s), median {timing.median:.3f} s",
            flush=True,
        )
    print(f"{backend}: load average after timing {_load()}", flush=True)
    return rows


def _load() -> str:
    return ", ".join(f"{figure:.2f}" for figure in os.getloadavg())


async def on_sqlite(answers: int) -> list[tuple[str, str, Timing]]:
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}")
        try:
            return await measure(engine, "SQLite", answers)
        finally:
            await engine.dispose()


async def on_postgres(answers: int) -> list[tuple[str, str, Timing]] | None:
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
    engine = create_engine(make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False))
    try:
        return await measure(engine, "PostgreSQL", answers)
    finally:
        await engine.dispose()
        connection = await asyncpg.connect(admin, timeout=3)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()


def table(answers: int, results: dict[str, list[tuple[str, str, Timing]]]) -> str:
    lines = [
        f"| backend | what ({answers:,} answers, {answers // 5:,} respondents) | code | best | median"
        " | CPU (best run) |",
        "| --- | --- | --- | ---: | ---: | ---: |",
    ]
    for backend, rows in results.items():
        for name, code, timing in rows:
            lines.append(
                f"| {backend} | {name} | {code} | {timing.best:.3f} s | {timing.median:.3f} s | {timing.cpu:.3f} s |"
            )
    return "\n".join(lines) + "\n\n" + verdict(results)


TARGETS = {"weighted_results": 2.0, "campaign_results": 1.0}  # seconds, for a million answers
# Each held to a bound times the raw GROUP BY of the same run: the unweighted results to the count per
# question and value, the weighted ones to the count per question, value and cell (what they read).
RATIO_BOUNDS = {
    "campaign_results": ("raw GROUP BY question, value", 5.0),
    "weighted_results": ("raw GROUP BY question, value, district, age band", 3.0),
}


def checks(results: dict[str, list[tuple[str, str, Timing]]]) -> list[Check]:
    found = []
    for backend, rows in results.items():
        best = {name: timing.best for name, _, timing in rows}
        for code, (baseline, ratio) in RATIO_BOUNDS.items():
            measured = next(timing.best for _, row_code, timing in rows if row_code == code)
            found.append(ratio_check(f"{backend} {code}", measured, best[baseline], ratio, unit=" s"))
    return found


def verdict(results: dict[str, list[tuple[str, str, Timing]]]) -> str:
    """Whether the results met their targets on each backend, said plainly under the table."""
    lines = []
    for code, target in TARGETS.items():
        said = []
        for backend, rows in results.items():
            best = next(timing.best for _, row_code, timing in rows if row_code == code)
            said.append(f"{backend} {best:.2f} s ({'met' if best < target else 'not met'})")
        lines.append(f"Target: {code} under {target:g} s. This run: " + "; ".join(said) + ".")
    return "\n\n".join(lines)


def write_report(body: str) -> None:
    load = ", ".join(f"{figure:.2f}" for figure in os.getloadavg())
    section = (
        f"{BEGIN}\n## Weighted results (`bench/weighted_results.py`)\n\n"
        "Reproduce: `.venv/bin/python bench/weighted_results.py` (PostgreSQL rows need the server of "
        "`OUTREACH_TEST_POSTGRES_URL`, default postgresql+asyncpg://postgres@127.0.0.1:5432/test). Compare a "
        "row with the baselines of the same run, not with another machine's.\n\n"
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, {os.cpu_count()} CPUs (load "
        f"average {load} over 1, 5 and 15 minutes when the run ended; the run prints it before and after each "
        f"backend), Python {platform.python_version()}; best and median of {RUNS} runs each, after the data was "
        "stored (PostgreSQL: after VACUUM ANALYZE); CPU: this process's CPU seconds in the best run (all the "
        "work on SQLite, which runs in the process; the client's share on PostgreSQL). The weighted results "
        "read three grouped statements "
        "(respondents per cell and inclusion probability, from each one's first answer; answers per question, "
        "value and cell, the inclusion probability stored on each answer, so no join per answer; residents "
        "asked per cell), rake 200,000 respondents to 35 districts and 4 age bands (numpy) and share out each "
        "question. The unweighted results count answers per question and value in SQL. On SQLite both read "
        "the answers in order from the results index (revision 0014) instead of sorting them; on PostgreSQL "
        "they hash them in memory (work_mem raised for the transaction, JIT off).\n\n"
        f"{body}\n{END}"
    )
    write_section(REPORT, BEGIN, END, section)


async def on_both(
    sqlite: Callable[[int], Awaitable[Measured]], postgres: Callable[[int], Awaitable[Measured | None]], answers: int
) -> dict[str, Measured]:
    """Each backend's figures, SQLite then PostgreSQL (left out when its server is unreachable: None)."""
    results = {"SQLite": await sqlite(answers)}
    figures = await postgres(answers)
    if figures is not None:
        results["PostgreSQL"] = figures
    return results


async def run(answers: int) -> dict[str, list[tuple[str, str, Timing]]]:
    return await on_both(on_sqlite, on_postgres, answers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--answers", type=int, default=1_000_000, help="answers to store (five per respondent)")
    parser.add_argument("--quick", action="store_true", help="100,000 answers, no report written")
    arguments = parser.parse_args()
    answers = 100_000 if arguments.quick else arguments.answers
    results = asyncio.run(run(answers))
    body = table(answers, results)
    print()
    print(body)
    if not arguments.quick:
        write_report(body)
        print(f"\nwritten to {REPORT.relative_to(ROOT)}")
    finish("bench-weighted", checks(results))


if __name__ == "__main__":
    main()
