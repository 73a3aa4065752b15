"""The engine factory: what a database error may say about the statement that failed."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from storage.db import create_engine

ADDRESS = "ola.kowalska@example.org"


async def test_a_failed_statement_never_shows_its_parameters(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A traceback or log line of a failed statement names the statement, never the values bound to
    it (addresses, answers): the engine hides them."""
    engine = create_engine(database_url)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # as an operator debugging SQL would
    try:
        async with engine.connect() as connection:
            with pytest.raises(DBAPIError) as failure:
                await connection.execute(
                    text("SELECT 1 FROM no_such_table WHERE address = :address"), {"address": ADDRESS}
                )
    finally:
        await engine.dispose()
    assert "no_such_table" in str(failure.value)
    assert ADDRESS not in str(failure.value)
    assert ADDRESS not in repr(failure.value)
    assert ADDRESS not in caplog.text
    assert "SQL parameters hidden" in str(failure.value)


async def test_a_sqlite_commit_waits_for_the_disk(tmp_path: Path) -> None:
    """Each commit syncs the WAL (synchronous=FULL, 2): a reply answered 2xx and a send marked started
    survive a power cut, not only a killed process (NORMAL, 1, may roll the last commits back).
    PostgreSQL's commits are durable by its own default (synchronous_commit=on)."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'outreach.db'}")
    try:
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            assert raw.driver_connection is not None
            async with raw.driver_connection.execute("PRAGMA synchronous") as cursor:
                assert (await cursor.fetchone())[0] == 2
    finally:
        await engine.dispose()
