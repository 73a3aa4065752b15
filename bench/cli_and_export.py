"""CLI start-up and export benchmark (issue 18): how long `outreach --help` and each command take to
start, and how fast `outreach export` writes 1,000,000 answers, beside same-run baselines.

    .venv/bin/python bench/cli_and_export.py            # a few minutes; writes docs/BENCHMARKS.md
    .venv/bin/python bench/cli_and_export.py --quick    # 100,000 answers, fewer runs (writes nothing)

Start-up: wall time of fresh processes, best and median of several runs, of
- the baseline: `python -c "import aiohttp, sqlalchemy, typer"` (the libraries any service of this
  kind loads; target ratios are to it: --help at most 1.0 times it, a command at most 1.6 times);
- `outreach --help` (target under 0.5 s), and `outreach COMMAND --help` for every command (its
  start-up: parsing the command line imports the command and what it uses; target under 0.8 s);
- `outreach campaign status` on an empty, migrated SQLite file: start-up, settings, one query.

Export: a fresh database (SQLite: a temporary file; PostgreSQL: a database of its own on
OUTREACH_TEST_POSTGRES_URL's server, dropped after) holding one campaign's answers (five questions,
three attributes each), then `outreach export CAMPAIGN --format csv -o FILE` run as a user runs it
(wall time including start-up, and its peak resident memory), the same as JSON Lines, and the
export of a tenth of the answers (memory must not grow with the rows). Baseline: a bare SELECT of
the same columns through the driver (sqlite3, asyncpg), written with csv.writer. Target: 100,000
rows/s or more, so at least 0.25 times the baseline's rate (a same-run ratio, as these machines are
shared and noisy); exits non-zero when a ratio misses and prints the load average beside the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import platform
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from report_sections import write_section
from scratch_postgres import asyncpg_dsn, scratch_postgres
from sqlalchemy import insert
from sqlmodel import col
from verdicts import Check, finish, ratio_check, summary

from flows.loader import load_campaign
from outreach.campaigns.commands import create_campaign
from outreach.cli.main import COMMANDS
from outreach.clock import system_clock
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.tables import Resident, Response

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "docs" / "BENCHMARKS.md"
BEGIN, END = "<!-- cli-and-export:begin -->", "<!-- cli-and-export:end -->"
OUTREACH = str(Path(sys.executable).parent / "outreach")
NOW = datetime(2027, 3, 2, 12, 0, tzinfo=UTC)
BATCH = 5000
HELP_RATIO, COMMAND_RATIO, EXPORT_RATIO = 1.0, 1.6, 0.25  # to the baselines (0.5 / 0.5, 0.8 / 0.5, 100k / 400k)
HELP_TARGET, COMMAND_TARGET, EXPORT_TARGET = 0.5, 0.8, 100_000  # absolute, judged on a quiet machine

CAMPAIGN = """
name: Export bench
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
  - {id: rating, type: scale, min: 1, max: 5, text: {pl: "Ocena?"}, low: {pl: źle}, high: {pl: dobrze}}
  - id: wishes
    type: multi
    text: {pl: "Co dodać?"}
    options:
      - {key: benches, text: {pl: ławki}}
      - {key: trees, text: {pl: drzewa}}
  - {id: idea, type: text, text: {pl: "Co zmienić?"}}
"""
DISTRICTS = ("Orunia", "Wrzeszcz Górny", "Oliwa", "Przymorze Wielkie", "Chełm", "Zaspa-Młyniec", "Osowa")
BANDS = ("18-29", "30-44", "45-64", "65+")


@dataclass(frozen=True)
class Timing:
    best: float
    median: float


def timed_processes(commands: list[tuple[list[str], dict[str, str] | None]], runs: int) -> list[Timing]:
    """Each command run `runs` times, round-robin (a busy spell of the machine falls on every row alike)."""
    seconds: list[list[float]] = [[] for _ in commands]
    for _ in range(runs):
        for index, (command, env) in enumerate(commands):
            start = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True, env=env)
            seconds[index].append(time.perf_counter() - start)
    return [Timing(min(each), statistics.median(each)) for each in seconds]


def startup(runs: int, database: Path) -> list[tuple[str, Timing, float | None]]:
    """(what, timing, its target ratio to the baseline) rows; the baseline first."""
    env = {**os.environ, "OUTREACH_DATABASE_URL": f"sqlite+aiosqlite:///{database}"}
    subprocess.run([OUTREACH, "db", "upgrade"], check=True, capture_output=True, env=env)
    rows: list[tuple[str, list[str], dict[str, str] | None, float | None]] = [
        ("baseline: import aiohttp, sqlalchemy, typer", [sys.executable, "-c", IMPORTS], None, None),
        ("outreach --help", [OUTREACH, "--help"], None, HELP_RATIO),
        *((f"outreach {name} --help", [OUTREACH, name, "--help"], env, COMMAND_RATIO) for name in COMMANDS),
        ("outreach campaign status (empty SQLite: start-up and a query)", [OUTREACH, "campaign", "status"], env, None),
    ]
    timings = timed_processes([(command, environment) for _, command, environment, _ in rows], runs)
    measured = [(what, timing, ratio) for (what, _, _, ratio), timing in zip(rows, timings, strict=True)]
    for what, timing, _ in measured:
        print(f"start-up: {what}: best {timing.best:.3f} s, median {timing.median:.3f} s", flush=True)
    return measured


IMPORTS = "import aiohttp, sqlalchemy, typer"


async def fill(url: str, answers: int, small: int) -> tuple[str, str]:
    """Two campaigns (slugs returned): `answers` answers, and `small` answers; five per respondent."""
    engine = create_engine(url)
    try:
        await upgrade(engine)
        sessions = session_factory(engine)
        slugs = []
        for count in (answers, small):
            record = await create_campaign(sessions, load_campaign(CAMPAIGN), clock=system_clock)
            assert record.id is not None
            people = count // 5
            for start in range(0, people, BATCH):
                stop = min(start + BATCH, people)
                async with sessions() as session, session.begin():
                    attributes = [
                        {"district": DISTRICTS[i % 7], "age_band": BANDS[i % 4], "sex": "fm"[i % 2]}
                        for i in range(start, stop)
                    ]
                    residents = [
                        {
                            "pseudonym": f"e{record.id}-{i:09d}",
                            "language": "pl",
                            "attributes": attributes[i - start],
                            "created_at": NOW,
                            "updated_at": NOW,
                        }
                        for i in range(start, stop)
                    ]
                    inserted = await session.execute(insert(Resident).returning(col(Resident.id)), residents)
                    ids = [rid for rid in inserted.scalars() if rid is not None]
                    await session.execute(insert(Response), _answers(record.id, ids, attributes))
            slugs.append(record.slug)
        return slugs[0], slugs[1]
    finally:
        await engine.dispose()


def _answers(campaign_id: int, ids: list[int], attributes: list[dict[str, str]]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for rid, snapshot in zip(ids, attributes, strict=True):
        values: list[tuple[str, Any]] = [
            ("visits", "yes" if rid % 3 else "no"),
            ("transport", ("bus", "tram", "bike")[rid % 3]),
            ("rating", rid % 5 + 1),
            ("wishes", ["benches", "trees"][: rid % 3]),
            ("idea", f"więcej ławek przy alei {rid % 97}"),
        ]
        rows.extend(
            {
                "campaign_id": campaign_id,
                "question_id": question,
                "resident_id": rid,
                "respondent": f"p{rid:020d}",
                "value": value,
                "channel": "sms",
                "answered_at": NOW,
                "language": "pl",
                "attributes": snapshot,
            }
            for question, value in values
        )
    return rows


SELECT = (
    "SELECT question_id, respondent, value, channel, answered_at, language, attributes FROM responses"
    " WHERE campaign_id = (SELECT id FROM campaigns WHERE slug = {slug}) AND value IS NOT NULL ORDER BY txid, id"
)


class Discard:
    """A sink that keeps nothing (the CLI writes a file; the baselines only make the text)."""

    def write(self, text: str) -> int:
        return len(text)


def bare_sqlite(path: Path, slug: str) -> tuple[int, float]:
    start = time.perf_counter()
    rows = 0
    with sqlite3.connect(path) as db:
        writer = csv.writer(Discard())
        cursor = db.execute(SELECT.format(slug="?"), (slug,))
        while batch := cursor.fetchmany(1000):
            writer.writerows(batch)
            rows += len(batch)
    return rows, time.perf_counter() - start


async def bare_postgres(dsn: str, slug: str) -> tuple[int, float]:
    start = time.perf_counter()
    rows = 0
    connection = await asyncpg.connect(dsn)
    try:
        writer = csv.writer(Discard())
        async with connection.transaction():
            buffer: list[Any] = []
            async for row in connection.cursor(SELECT.format(slug="$1"), slug, prefetch=1000):
                buffer.append(tuple(row))
                if len(buffer) == 1000:
                    writer.writerows(buffer)
                    rows += len(buffer)
                    buffer.clear()
            writer.writerows(buffer)
            rows += len(buffer)
    finally:
        await connection.close()
    return rows, time.perf_counter() - start


def cli_export(url: str, slug: str, kind: str, folder: Path) -> tuple[int, float, int]:
    """(lines, seconds, peak resident kB) of `outreach export` run as a user runs it."""
    target = folder / f"export.{kind}"
    env = {**os.environ, "OUTREACH_DATABASE_URL": url}
    start = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M", OUTREACH, "export", slug, "--format", kind, "-o", str(target)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    seconds = time.perf_counter() - start
    peak = int(re.findall(r"^(\d+)$", done.stderr, re.MULTILINE)[-1])
    with open(target, "rb") as exported:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: exported.read(1 << 20), b""))
    target.unlink()
    return lines - (1 if kind == "csv" else 0), seconds, peak


@dataclass(frozen=True)
class ExportRow:
    what: str
    rows: int
    seconds: float
    peak_kb: int | None

    @property
    def rate(self) -> float:
        return self.rows / self.seconds


def measure_export(backend: str, url: str, answers: int, bare: Any) -> list[ExportRow]:
    started = time.perf_counter()
    large, small = asyncio.run(fill(url, answers, answers // 10))
    print(f"{backend}: {answers:,} answers stored in {time.perf_counter() - started:.0f} s", flush=True)
    result: list[ExportRow] = []
    with tempfile.TemporaryDirectory() as folder:
        rows, seconds = bare(large)
        result.append(ExportRow("baseline: bare SELECT, csv.writer", rows, seconds, None))
        for kind, slug in (("csv", large), ("jsonl", large), ("csv", small)):
            lines, seconds, peak = cli_export(url, slug, kind, Path(folder))
            result.append(ExportRow(f"outreach export --format {kind}", lines, seconds, peak))
    for row in result:
        memory = f", peak RSS {row.peak_kb / 1024:.0f} MB" if row.peak_kb else ""
        print(f"{backend}: {row.what}: {row.rows:,} rows in {row.seconds:.2f} s = {row.rate:,.0f} rows/s{memory}")
    assert result[1].rows == result[0].rows == answers, (result[0].rows, result[1].rows)
    return result


def on_sqlite(answers: int) -> list[ExportRow]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.db"
        return measure_export("SQLite", f"sqlite+aiosqlite:///{path}", answers, lambda slug: bare_sqlite(path, slug))


def on_postgres(answers: int) -> list[ExportRow] | None:
    with scratch_postgres("outreach_bench") as url:
        if url is None:
            return None
        dsn = asyncpg_dsn(url)
        return measure_export(
            "PostgreSQL",
            url.render_as_string(hide_password=False),
            answers,
            lambda slug: asyncio.run(bare_postgres(dsn, slug)),
        )


def checks(starts: list[tuple[str, Timing, float | None]], exports: dict[str, list[ExportRow]]) -> list[Check]:
    """Each start-up (best of its runs) held to its ratio to the same-run baseline; each CSV export's
    rate to the bare SELECT's, and its memory to the small export's (it must not grow with the rows)."""
    baseline = starts[0][1].best
    found = [ratio_check(what, timing.best, baseline, ratio, unit=" s") for what, timing, ratio in starts if ratio]
    for backend, rows in exports.items():
        bare, csv_export, _, small = rows
        found.append(
            ratio_check(
                f"{backend} CSV export", csv_export.rate, bare.rate, EXPORT_RATIO, unit=" rows/s", at_least=True
            )
        )
        if csv_export.peak_kb and small.peak_kb:
            found.append(
                Check(
                    f"{backend} CSV export peak memory",
                    csv_export.peak_kb,
                    1.5 * small.peak_kb,
                    " kB",
                    basis=f"1.5 × the peak of a tenth of the rows, {small.peak_kb:,} kB",
                )
            )
    return found


def table(starts: list[tuple[str, Timing, float | None]], exports: dict[str, list[ExportRow]], answers: int) -> str:
    baseline = starts[0][1].best
    lines = [
        "| start-up | best | median | to baseline | ratio target |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for what, timing, ratio in starts:
        target = f"≤ {ratio}" if ratio is not None else "-"
        lines.append(
            f"| {what} | {timing.best:.3f} s | {timing.median:.3f} s | {timing.best / baseline:.2f} × | {target} |"
        )
    lines += [
        "",
        f"| backend | export ({answers:,} answers) | rows | seconds | rows/s | to baseline | peak RSS |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for backend, rows in exports.items():
        bare = rows[0]
        for row in rows:
            peak = f"{row.peak_kb / 1024:.0f} MB" if row.peak_kb else "-"
            lines.append(
                f"| {backend} | {row.what} | {row.rows:,} | {row.seconds:.2f} | {row.rate:,.0f} |"
                f" {row.rate / bare.rate:.2f} × | {peak} |"
            )
    return "\n".join(lines)


def write_report(body: str, load: tuple[float, float, float], runs: int) -> None:
    section = (
        f"{BEGIN}\n## CLI start-up and export (`bench/cli_and_export.py`)\n\n"
        "Reproduce: `make bench-cli` (or `.venv/bin/python bench/cli_and_export.py`; PostgreSQL rows need the "
        "server of `OUTREACH_TEST_POSTGRES_URL`). Compare a row with the baselines of the same run.\n\n"
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, {os.cpu_count()} CPUs, load "
        f"average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1/5/15 min) when the run ended, Python "
        f"{platform.python_version()}. Start-up: wall time of a fresh process, best and median of {runs} runs; "
        "`COMMAND --help` parses the command line, which imports the command's module and what it uses. Export: "
        "`outreach export CAMPAIGN --format csv|jsonl -o FILE` as a process, start-up included; peak RSS by "
        "/usr/bin/time (the last row exports a tenth of the answers: the same peak means memory does not grow "
        "with the rows). Targets on a quiet machine: --help under 0.5 s, a command's start-up under 0.8 s, an "
        "export of 1,000,000 answers at 100,000 rows/s or more; the script checks the same-run ratios.\n\n"
        f"{body}\n{END}"
    )
    write_section(REPORT, BEGIN, END, section)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--answers", type=int, default=1_000_000, help="answers to export (five per respondent)")
    parser.add_argument("--runs", type=int, default=7, help="runs per start-up row")
    parser.add_argument("--quick", action="store_true", help="100,000 answers, 3 runs, no report written")
    arguments = parser.parse_args()
    answers = 100_000 if arguments.quick else arguments.answers
    runs = 3 if arguments.quick else arguments.runs
    with tempfile.TemporaryDirectory() as folder:
        starts = startup(runs, Path(folder) / "empty.db")
    exports = {"SQLite": on_sqlite(answers)}
    postgres = on_postgres(answers)
    if postgres is not None:
        exports["PostgreSQL"] = postgres
    load = os.getloadavg()
    body = table(starts, exports, answers)
    found = checks(starts, exports)
    body += f"\n\n{summary(found)}"
    print()
    print(body)
    if not arguments.quick:
        write_report(body, load, runs)
        print(f"\nwritten to {REPORT.relative_to(ROOT)}")
    finish("bench-cli", found)


if __name__ == "__main__":
    main()
