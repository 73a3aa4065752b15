"""Scale benchmark (issue 18): the whole register in a minute. `outreach residents import` of a
register of 500,000 residents, then `outreach campaign launch` of a campaign to all of them, through
the command line as an official types them, on SQLite and PostgreSQL.

    .venv/bin/python bench/scale.py               # 500,000 residents; writes its section of docs/BENCHMARKS.md
    .venv/bin/python bench/scale.py --quick       # 50,000, for a look (writes nothing)
    make bench-scale

Each backend gets a fresh, migrated database (SQLite: a temporary file; PostgreSQL: a database of its
own on OUTREACH_TEST_POSTGRES_URL's server, dropped after). Each step is its own `outreach` process,
timed from start to exit (start-up included) with its peak resident memory (with its children's).
Beside each, the baseline of the same run: the driver's executemany of the same rows (residents and
their addresses; conversations and their first questions) into the same tables of another fresh
database, in one transaction. Targets: each step under 60 s and 400 MB (judged on a quiet machine);
the run exits non-zero when a step takes more than its bound times its baseline (RATIO_BOUND), which
holds on a loaded machine too, since the baseline slows down with it.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import platform
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from cli_env import outreach_cli_env
from report_sections import write_section
from scratch_postgres import asyncpg_dsn, scratch_postgres
from verdicts import Check, finish, ratio_check

from storage.address_keys import AddressKeys
from storage.db import create_engine
from storage.keyring import development_keyring
from storage.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "docs" / "BENCHMARKS.md"
BEGIN, END = "<!-- scale:begin -->", "<!-- scale:end -->"
OUTREACH = str(Path(sys.executable).parent / "outreach")
TIME = "/usr/bin/time"  # GNU time: a step's own peak memory and CPU time
TARGET_SECONDS = 60.0
TARGET_MB = 400.0
# A step may take this many times its same-run baseline (the driver's executemany of the rows it
# writes). The import also reads, checks and normalises every row (CSV, phone numbers, dates); the
# launch reads the audience, checks fatigue and builds each conversation and message.
RATIO_BOUND = {"import": 25.0, "launch": 25.0}
DISTRICTS = ("Oliwa", "Wrzeszcz Górny", "Śródmieście", "Przymorze Wielkie", "Orunia-Św. Wojciech-Lipce", "Osowa")
CONSENT_AT = "2026-01-15T09:00:00+01:00"
CAMPAIGN = """\
name: Skala miasta
languages: [pl]
channels: [sms]
questions:
  - id: uses_tram
    type: yesno
    text: {pl: "Czy jeździsz tramwajem?"}
"""


@dataclass(frozen=True)
class Step:
    seconds: float
    peak_mb: float
    cpu_seconds: float  # the process's own (user + system): near its wall time on a quiet machine for SQLite


@dataclass(frozen=True)
class Figures:
    backend: str
    residents: int
    imported: Step
    launched: Step
    import_baseline: float
    launch_baseline: float
    load: tuple[float, float]  # the 1-minute load average before and after


def phone(index: int) -> str:
    return f"+48600{100000 + index:06d}" if index < 900_000 else f"+48601{index - 900_000:06d}"


def write_register(path: Path, residents: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["phone", "language", "district", "age_band", "consent_source", "consent_at"])
        for index in range(residents):
            district = DISTRICTS[index % len(DISTRICTS)]
            writer.writerow([phone(index), "pl", district, str(18 + index % 70), "city register", CONSENT_AT])


def run_step(args: list[str], env: dict[str, str], cwd: Path) -> Step:
    """One `outreach …` process: its wall time, CPU time (its own and its children's, as GNU time
    reports them) and peak memory: the larger of GNU time's (the largest single process) and the
    sum over the process and its children (an import's parsing process) sampled while it runs.
    A failure stops the run. Output goes to files: a pipe nobody reads could stall it."""
    usage = cwd / "usage.txt"
    with (cwd / "stdout.txt").open("w+") as stdout, (cwd / "stderr.txt").open("w+") as stderr:
        started = time.perf_counter()
        running = subprocess.Popen(
            [TIME, "-f", "%M %U %S", "-o", str(usage), OUTREACH, *args], env=env, cwd=cwd, stdout=stdout, stderr=stderr
        )
        together_kib = 0
        while running.poll() is None:
            together_kib = max(together_kib, tree_rss_kib(running.pid))
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        stdout.seek(0)
        stderr.seek(0)
        said, complained = stdout.read(), stderr.read()
    if running.returncode != 0:
        raise SystemExit(f"outreach {' '.join(args)} exited {running.returncode}:\n{said}\n{complained[-3000:]}")
    peak_kib, user, system = usage.read_text().split()[-3:]
    peak_mb, cpu = max(int(peak_kib), together_kib) / 1024, float(user) + float(system)
    first = said.strip().splitlines()[0] if said.strip() else ""
    print(
        f"  outreach {' '.join(args[:2])}: {seconds:.1f} s (CPU {cpu:.1f} s), peak {peak_mb:.0f} MB — {first}",
        flush=True,
    )
    return Step(seconds, peak_mb, cpu)


def tree_rss_kib(root: int) -> int:
    """The resident memory of the processes under `root` (GNU time's child and its children) now,
    from /proc; a process that ended meanwhile counts nothing."""
    total, waiting = 0, [root]
    while waiting:
        pid = waiting.pop()
        try:
            tasks = Path(f"/proc/{pid}/task")
            waiting.extend(int(child) for task in tasks.iterdir() for child in (task / "children").read_text().split())
            if pid != root:  # GNU time itself is not the step
                status = Path(f"/proc/{pid}/status").read_text()
                total += next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            continue
    return total


def measure_steps(database_url: str, register: Path, folder: Path) -> tuple[Step, Step]:
    env = outreach_cli_env(database_url)
    run_step(["db", "upgrade"], env, folder)
    imported = run_step(["residents", "import", str(register)], env, folder)
    campaign = folder / "campaign.yaml"
    campaign.write_text(CAMPAIGN, encoding="utf-8")
    run_step(["campaign", "create", str(campaign)], env, folder)
    launched = run_step(["campaign", "launch", "skala-miasta"], env, folder)
    return imported, launched


# --- baselines: the driver's executemany of the same rows into the same tables -------------------


@dataclass(frozen=True)
class BaselineRows:
    residents: list[tuple[object, ...]]
    contacts: list[tuple[object, ...]]
    conversations: list[tuple[object, ...]]
    outbox: list[tuple[object, ...]]


def baseline_rows(residents: int, *, sqlite: bool) -> BaselineRows:
    now = datetime.now(UTC)
    moment: object = now.replace(tzinfo=None).isoformat(sep=" ") if sqlite else now
    consent: object = moment
    state = json.dumps({"question_id": "uses_tram", "language": "pl"})
    people, contacts, conversations, outbox = [], [], [], []
    for index in range(residents):
        rid = index + 1
        attributes = json.dumps({"district": DISTRICTS[index % len(DISTRICTS)], "age_band": "30-44"})
        people.append((rid, "r" + secrets.token_hex(8), "pl", attributes, moment, moment))
        sealed = KEYS.columns("sms", phone(index))  # as the store writes an address (bench/address_crypto.py)
        contacts.append(
            (rid, rid, "sms", sealed["address_index"], sealed["address_sealed"], "city register", consent, moment)
        )
        conversations.append((1, rid, rid, "p" + secrets.token_hex(8), state, "active", moment, moment, moment, 0))
        key = f"q:1:{rid}:uses_tram:0"
        outbox.append((key, 1, rid, rid, "sms", "question", QUESTION, CHOICES, "numbered", "queued", 0, moment, moment))
    return BaselineRows(people, contacts, conversations, outbox)


KEYS = AddressKeys(development_keyring())
QUESTION = "Czy jeździsz tramwajem?\n1. tak\n2. nie"
CHOICES = json.dumps([{"key": "yes", "label": "tak"}, {"key": "no", "label": "nie"}])
RESIDENTS_SQL = "INSERT INTO residents (id, pseudonym, language, attributes, created_at, updated_at) VALUES "
CONTACTS_SQL = (
    "INSERT INTO contact_addresses (id, resident_id, channel, address_index, address_sealed, consent_source,"
    " consent_at, created_at) VALUES "
)
CONVERSATIONS_SQL = (
    "INSERT INTO conversations (campaign_id, resident_id, contact_id, respondent, state, status, started_at,"
    " updated_at, asked_at, reminders_sent) VALUES "
)
OUTBOX_SQL = (
    "INSERT INTO outbox (idempotency_key, campaign_id, resident_id, contact_id, channel, kind, text, choices,"
    " choice_style, status, attempts, next_attempt_at, created_at) VALUES "
)
CAMPAIGN_SQL = (
    "INSERT INTO campaigns (id, slug, name, definition, status, created_at, spent, launch_cursor, launch_held_back)"
    " VALUES "
)


def placeholders(count: int, postgres: bool) -> str:
    return "(" + ", ".join(f"${n}" if postgres else "?" for n in range(1, count + 1)) + ")"


def sqlite_baseline(path: Path, rows: BaselineRows) -> tuple[float, float]:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("PRAGMA foreign_keys=ON")
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    connection.execute(CAMPAIGN_SQL + placeholders(9, False), (1, "base", "base", "{}", "active", now, 0, 0, 0))

    def timed(*writes: tuple[str, list[tuple[object, ...]]]) -> float:
        started = time.perf_counter()
        connection.execute("BEGIN IMMEDIATE")
        for sql, values in writes:
            connection.executemany(sql + placeholders(len(values[0]), False), values)
        connection.execute("COMMIT")
        return time.perf_counter() - started

    imported = timed((RESIDENTS_SQL, rows.residents), (CONTACTS_SQL, rows.contacts))
    launched = timed((CONVERSATIONS_SQL, rows.conversations), (OUTBOX_SQL, rows.outbox))
    connection.close()
    return imported, launched


async def postgres_baseline(dsn: str, rows: BaselineRows) -> tuple[float, float]:
    connection = await asyncpg.connect(dsn)
    try:
        now = datetime.now(UTC)
        await connection.execute(CAMPAIGN_SQL + placeholders(9, True), 1, "base", "base", "{}", "active", now, 0, 0, 0)

        async def timed(*writes: tuple[str, list[tuple[object, ...]]]) -> float:
            started = time.perf_counter()
            async with connection.transaction():
                for sql, values in writes:
                    await connection.executemany(sql + placeholders(len(values[0]), True), values)
            return time.perf_counter() - started

        imported = await timed((RESIDENTS_SQL, rows.residents), (CONTACTS_SQL, rows.contacts))
        launched = await timed((CONVERSATIONS_SQL, rows.conversations), (OUTBOX_SQL, rows.outbox))
        return imported, launched
    finally:
        await connection.close()


async def migrated(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


# --- the backends -------------------------------------------------------------------------------


def on_sqlite(residents: int, register: Path) -> Figures:
    before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        imported, launched = measure_steps(f"sqlite+aiosqlite:///{folder / 'scale.db'}", register, folder)
        baseline = folder / "baseline.db"
        asyncio.run(migrated(f"sqlite+aiosqlite:///{baseline}"))
        rows = baseline_rows(residents, sqlite=True)
        import_baseline, launch_baseline = sqlite_baseline(baseline, rows)
    return Figures(
        "SQLite", residents, imported, launched, import_baseline, launch_baseline, (before, os.getloadavg()[0])
    )


@contextmanager
def postgres_database() -> Iterator[tuple[str, str] | None]:
    """A fresh database on the test server: its SQLAlchemy URL and its asyncpg DSN; None if unreachable."""
    with scratch_postgres("outreach_scale") as url:
        yield None if url is None else (url.render_as_string(hide_password=False), asyncpg_dsn(url))


def on_postgres(residents: int, register: Path) -> Figures | None:
    before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as name, postgres_database() as measured:
        if measured is None:
            return None
        imported, launched = measure_steps(measured[0], register, Path(name))
        with postgres_database() as baseline:
            assert baseline is not None
            asyncio.run(migrated(baseline[0]))
            rows = baseline_rows(residents, sqlite=False)
            import_baseline, launch_baseline = asyncio.run(postgres_baseline(baseline[1], rows))
    return Figures(
        "PostgreSQL", residents, imported, launched, import_baseline, launch_baseline, (before, os.getloadavg()[0])
    )


# --- the report ---------------------------------------------------------------------------------


def verdicts(figures: Figures) -> list[tuple[str, Step, float, bool, bool]]:
    """Per step: its figures, its baseline, whether it kept its ratio bound and the absolute targets."""
    said = []
    for step, measured, baseline in (
        ("import", figures.imported, figures.import_baseline),
        ("launch", figures.launched, figures.launch_baseline),
    ):
        ratio_kept = measured.seconds <= RATIO_BOUND[step] * baseline
        targets_met = measured.seconds < TARGET_SECONDS and measured.peak_mb < TARGET_MB
        said.append((step, measured, baseline, ratio_kept, targets_met))
    return said


def table(results: list[Figures]) -> str:
    lines = [
        "| backend | step | residents | time | its CPU | rows/s | peak memory | baseline (executemany) "
        "| ratio (bound) | under 60 s and 400 MB | load average (before → after) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for figures in results:
        for step, measured, baseline, ratio_kept, targets_met in verdicts(figures):
            name = "`residents import`" if step == "import" else "`campaign launch`"
            rate = figures.residents / measured.seconds
            ratio = measured.seconds / baseline
            lines.append(
                f"| {figures.backend} | {name} | {figures.residents:,} | {measured.seconds:.1f} s "
                f"| {measured.cpu_seconds:.1f} s | {rate:,.0f} "
                f"| {measured.peak_mb:.0f} MB | {baseline:.1f} s | {ratio:.1f}× (≤ {RATIO_BOUND[step]:g}×"
                f"{'' if ratio_kept else ', missed'}) | {'yes' if targets_met else 'no'} "
                f"| {figures.load[0]:.2f} → {figures.load[1]:.2f} |"
            )
    return "\n".join(lines)


def summary(results: list[Figures]) -> str:
    """Under the table: each step against the targets, said plainly, with the machine's load."""
    said = []
    for figures in results:
        for step, measured, _, _, met in verdicts(figures):
            said.append(f"{figures.backend} {step} {measured.seconds:.0f} s ({'met' if met else 'not met'})")
    loads = [load for figures in results for load in figures.load]
    return (
        f"This run, at load average {min(loads):.1f} to {max(loads):.1f} on {os.cpu_count()} CPUs: "
        + "; ".join(said)
        + ". *its CPU* is the step's own user and system time: on SQLite the database works inside that"
        " process, so it is near what the step takes on an idle machine; PostgreSQL's server works apart."
    )


def write_report(body: str) -> None:
    section = (
        f"{BEGIN}\n## The whole register (`bench/scale.py`, `make bench-scale`)\n\n"
        "Reproduce: `make bench-scale` (PostgreSQL rows need the server of `OUTREACH_TEST_POSTGRES_URL`, default "
        "postgresql+asyncpg://postgres@127.0.0.1:5432/test). Each step is one `outreach` process on a fresh "
        "database, timed from its start to its exit, with its peak resident memory (with the parsing process "
        "that an import of a large file starts, both together). The baseline "
        "is the driver's executemany of the same rows (residents and addresses; conversations and first "
        "questions) into the same tables of another fresh database, in the same run. Targets (issue 18): each "
        "step under 60 s and 400 MB on a quiet machine; the run fails when a step takes more than its bound "
        "times its baseline. Other helpers share these 2 CPUs: read the figures beside the load average. Before "
        "the set-based writes (issue 18's figures, 20,000 rows on SQLite): import 296 rows/s, launch 205 "
        "conversations/s. Before the launch's rows became tuples built from one first step per language and "
        "channel (a quiet run at load 0.7-1.2, 500,000 residents): launch 85.5 s (CPU 83.6 s) on SQLite, 65.2 s "
        "(CPU 38.4 s) on PostgreSQL.\n\n"
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}.\n\n{body}\n{END}"
    )
    write_section(REPORT, BEGIN, END, section)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--residents", type=int, default=500_000)
    parser.add_argument("--quick", action="store_true", help="50,000 residents, no report written")
    parser.add_argument("--backend", choices=("both", "sqlite", "postgresql"), default="both")
    arguments = parser.parse_args()
    residents = 50_000 if arguments.quick else arguments.residents
    results: list[Figures] = []
    with tempfile.TemporaryDirectory() as name:
        register = Path(name) / "register.csv"
        write_register(register, residents)
        runs: list[Callable[[int, Path], Figures | None]] = []
        if arguments.backend in ("both", "sqlite"):
            runs.append(on_sqlite)
        if arguments.backend in ("both", "postgresql"):
            runs.append(on_postgres)
        for run in runs:
            print(f"{run.__name__.removeprefix('on_')}: {residents:,} residents", flush=True)
            figures = run(residents, register)
            if figures is not None:
                results.append(figures)
    body = table(results) + "\n\n" + summary(results) if results else "no backend reachable"
    print()
    print(body)
    if not arguments.quick and arguments.backend == "both":
        write_report(body)
        print(f"\nwritten to {REPORT.relative_to(ROOT)}")
    finish("bench-scale", checks(results))


def checks(results: list[Figures]) -> list[Check]:
    """Each step's time held to its bound times its same-run baseline."""
    return [
        ratio_check(
            f"{figures.backend} {step}, {figures.residents:,} residents",
            measured.seconds,
            baseline,
            RATIO_BOUND[step],
            unit=" s",
        )
        for figures in results
        for step, measured, baseline, _, _ in verdicts(figures)
    ] + [  # memory does not grow with the machine's load: held to the target itself
        Check(f"{figures.backend} {step} peak memory", measured.peak_mb, TARGET_MB, " MB")
        for figures in results
        for step, measured, _, _, _ in verdicts(figures)
    ]


if __name__ == "__main__":
    main()
