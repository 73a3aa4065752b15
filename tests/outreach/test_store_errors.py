"""A background loop tells an outage (wait, try again) from a defect or bad data (say so once, loudly)."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from outreach.bootstrap import Services
from outreach.store_errors import DEFECT_PAUSE_SECONDS, StoreErrors, kind_of
from outreach.web.prometheus_telemetry import PrometheusTelemetry
from storage.db import create_engine

PHONE = "+48600100299"


async def raised(url: str, *statements: tuple[str, dict[str, str]]) -> DBAPIError:
    """The error the store raises for `statements`, on an engine that shows its parameters (so a log
    line quoting the error would show them too)."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            for statement, parameters in statements:
                await connection.execute(text(statement), parameters)
    except DBAPIError as error:
        return error
    finally:
        await engine.dispose()
    raise AssertionError("the statements went through")


async def test_a_defect_is_logged_at_error_once_counted_and_retried_after_a_longer_pause(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    error = await raised(services.settings.database_url, ("SELECT id FROM no_such_table WHERE id = :id", {"id": PHONE}))
    telemetry = PrometheusTelemetry()
    errors = StoreErrors("dispatcher", telemetry)
    caplog.set_level(logging.DEBUG, logger="outreach.store_errors")
    assert kind_of(error) == "defect"
    assert errors.pause_after(error, 1.0) == DEFECT_PAUSE_SECONDS
    assert errors.pause_after(error, 1.0) == DEFECT_PAUSE_SECONDS
    loud = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert len(loud) == 1 and type(error).__name__ in loud[0].getMessage() and "no_such_table" in caplog.text
    assert PHONE not in caplog.text and "SELECT" not in caplog.text and "store unavailable" not in caplog.text
    counted = telemetry.registry.get_sample_value(
        "outreach_store_defects_total", {"loop": "dispatcher", "kind": "defect"}
    )
    assert counted == 2


async def test_bad_data_is_said_in_plain_words_never_with_the_refused_value(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    # PostgreSQL quotes the duplicate key's value in the error's detail; the log must not.
    error = await raised(
        services.settings.database_url,
        ("CREATE TEMPORARY TABLE probe (address TEXT UNIQUE)", {}),
        ("INSERT INTO probe (address) VALUES (:address)", {"address": PHONE}),
        ("INSERT INTO probe (address) VALUES (:address)", {"address": PHONE}),
    )
    assert PHONE in str(error)  # it would leak, were the error logged as it is
    assert StoreErrors("scheduler").pause_after(error, 1.0) == DEFECT_PAUSE_SECONDS
    assert [record.levelno for record in caplog.records] == [logging.ERROR]
    assert "conflict" in caplog.text and "unique" in caplog.text and PHONE not in caplog.text


async def refused() -> BaseException:
    """The error a store that refuses connections raises (nothing listens on port 1)."""
    engine = create_engine("postgresql+asyncpg://outreach@127.0.0.1:1/outreach")
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except (OSError, DBAPIError) as error:
        return error
    finally:
        await engine.dispose()
    raise AssertionError("a store answered on port 1")


async def test_an_outage_is_a_quiet_warning_and_the_usual_pause(caplog: pytest.LogCaptureFixture) -> None:
    outage = await refused()
    assert kind_of(outage) == "outage"
    assert StoreErrors("dispatcher").pause_after(outage, 1.0) == 1.0
    assert [record.levelno for record in caplog.records] == [logging.WARNING]
    assert "dispatcher: store unavailable" in caplog.text and "retrying" in caplog.text


async def test_an_outage_is_said_once_reminded_each_minute_and_its_end_said(caplog: pytest.LogCaptureFixture) -> None:
    """A loop retrying every second (every 50 ms, the inbound queue's sweep) said every failure: a
    minute's outage filled the log with 60 (1,200) warnings. Now its start, a reminder a minute, its end."""
    outage = await refused()
    now = [0.0]
    errors = StoreErrors("dispatcher", clock=lambda: now[0])
    errors.answered()  # no outage: nothing to say
    for second in range(131):  # failing every second from 0 to 130 s
        now[0] = float(second)
        assert errors.pause_after(outage, 1.0) == 1.0
    now[0] = 131.0
    errors.answered()
    errors.answered()  # said once
    now[0] = 200.0
    errors.pause_after(outage, 1.0)  # a new outage is said again
    kind = type(outage).__name__
    assert [(record.levelno, record.getMessage()) for record in caplog.records] == [
        (logging.WARNING, f"dispatcher: store unavailable ({kind}); retrying"),
        (logging.WARNING, f"dispatcher: store still unavailable after 60 s ({kind}, 61 tries failed); retrying"),
        (logging.WARNING, f"dispatcher: store still unavailable after 120 s ({kind}, 121 tries failed); retrying"),
        (logging.WARNING, "dispatcher: store available again after 131 s (131 tries failed)"),
        (logging.WARNING, f"dispatcher: store unavailable ({kind}); retrying"),
    ]
