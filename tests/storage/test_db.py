"""The engine factory: what a database error may say about the statement that failed."""

from __future__ import annotations

import logging

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
