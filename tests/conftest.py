"""Shared fixtures: a database per test on each selected backend, wired services, a manual clock.

OUTREACH_TEST_DATABASES picks the backends (default "sqlite,postgresql"). PostgreSQL comes from
OUTREACH_TEST_POSTGRES_URL (default the machine's server, database `test`); each test run (each
pytest-xdist worker of it) works in a database of its own, made and dropped here. When PostgreSQL is
unreachable its tests skip with the reason, except with CI=true, where they fail: CI must never pass
by skipping.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

import storage.tables  # noqa: F401  (registers the tables)
from outreach.bootstrap import Services, bootstrap
from outreach.settings import Settings
from storage.db import create_engine
from storage.migrate import upgrade
from tests.providers import SANDBOX_SECRET

DATABASES = [name.strip() for name in os.environ.get("OUTREACH_TEST_DATABASES", "sqlite,postgresql").split(",")]
POSTGRES_URL = os.environ.get("OUTREACH_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"


def unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: a missing server fails the run instead of skipping)")
    pytest.skip(reason)


class ManualClock:
    """An injected clock that moves only when a test says so."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2027, 3, 2, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def admin_dsn(url: str) -> str:
    """The server of `url`, as asyncpg takes it (for the statements that make, drop or close a database)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _create_postgres_database() -> str:
    name = f"outreach_test_{uuid.uuid4().hex[:10]}"
    connection = await asyncpg.connect(admin_dsn(POSTGRES_URL), timeout=3)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    try:
        await upgrade(engine)  # the migrations themselves, on a real server
    finally:
        await engine.dispose()
    return url


async def _drop_postgres_database(url: str) -> None:
    name = make_url(url).database
    connection = await asyncpg.connect(admin_dsn(POSTGRES_URL), timeout=3)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str | None]:
    """The URL of this run's own PostgreSQL database, or None when the server cannot be reached."""
    try:
        url = asyncio.run(_create_postgres_database())
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        yield None
        del error
        return
    yield url
    asyncio.run(_drop_postgres_database(url))


async def _empty_postgres(url: str) -> None:
    """Every table of the schema emptied and every sequence restarted, in one round trip. DELETE with
    triggers off (session_replication_role, so foreign keys and the append-only guards stand aside),
    not TRUNCATE: on tables of a few rows TRUNCATE costs new files per table, 0.16 s a test against
    0.03 s (measured on this machine's server), which over ~2,000 PostgreSQL tests was minutes of CI."""
    connection = await asyncpg.connect(admin_dsn(url), timeout=3)
    try:
        await connection.execute(await _emptying_script(connection))
    finally:
        await connection.close()


_EMPTYING: list[str] = []  # the script, made once per run from the schema the migrations built


async def _emptying_script(connection: asyncpg.Connection) -> str:
    if not _EMPTYING:
        tables = await connection.fetch(
            "SELECT quote_ident(tablename) FROM pg_tables"
            " WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
        )
        sequences = await connection.fetch(
            "SELECT quote_ident(sequencename) FROM pg_sequences WHERE schemaname = 'public'"
        )
        _EMPTYING.append(
            "SET session_replication_role = replica;"
            + "".join(f"DELETE FROM {table};" for (table,) in tables)
            + "".join(f"ALTER SEQUENCE {sequence} RESTART;" for (sequence,) in sequences)
            + "SET session_replication_role = origin;"
        )
    return _EMPTYING[0]


async def _migrate_sqlite(path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()  # the last connection closing checkpoints the WAL into the file


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database built by the migrations once; each test gets a copy of the file."""
    path = tmp_path_factory.mktemp("template") / "outreach.db"
    asyncio.run(_migrate_sqlite(path))
    return path


@pytest.fixture(params=DATABASES)
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str | None, sqlite_template: Path
) -> str:
    """An empty database with the current schema, on each selected backend."""
    if request.param == "sqlite":
        path = tmp_path / "outreach.db"
        shutil.copyfile(sqlite_template, path)
        return f"sqlite+aiosqlite:///{path}"
    if request.param == "postgresql":
        if postgres_url is None:
            unavailable(f"PostgreSQL at {make_url(POSTGRES_URL).render_as_string()} is unreachable")
        assert postgres_url is not None
        await _empty_postgres(postgres_url)
        return postgres_url
    raise ValueError(f"unknown test database {request.param!r} in OUTREACH_TEST_DATABASES")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        sandbox_secret=SANDBOX_SECRET,
        _env_file=None,
    )


@pytest.fixture
async def services(settings: Settings, clock: ManualClock) -> AsyncIterator[Services]:
    wired = bootstrap(settings, clock=clock, worker_id="test-worker")
    yield wired
    await wired.close()
