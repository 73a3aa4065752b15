"""A scratch PostgreSQL database for a benchmark: made on the test server, dropped afterwards (never the
server's shared `test` database itself)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg
from sqlalchemy.engine import URL, make_url

POSTGRES_URL = os.environ.get("OUTREACH_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


def asyncpg_dsn(url: URL) -> str:
    """`url` as asyncpg.connect takes it."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(make_url(POSTGRES_URL)), timeout=3)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@contextmanager
def scratch_postgres(prefix: str) -> Iterator[URL | None]:
    """A fresh database named `prefix` and a random suffix, as a SQLAlchemy URL; None (said once) when
    the server is unreachable, so the caller leaves its PostgreSQL rows out."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        print(f"PostgreSQL unreachable ({type(error).__name__}): its rows are left out", flush=True)
        yield None
        return
    try:
        yield make_url(POSTGRES_URL).set(database=name)
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
