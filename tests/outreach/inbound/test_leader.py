"""Jobs one worker runs: a lease table the SQL does not fit is said at ERROR, not passed over quietly."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

import pytest
from sqlalchemy import text

from outreach.bootstrap import Services
from outreach.inbound.leader import run_as_singleton

GUARD_SECONDS = 10  # a wait for a log line that never comes fails instead of hanging


async def test_a_lease_the_schema_does_not_fit_is_an_error_once_and_the_job_does_not_run(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    # A real defect: the leases' table renamed away, as a half-applied change left it. Before, no
    # worker held the lease and nothing said why: Telegram polling or the IMAP poller never ran.
    async with services.sessions() as session, session.begin():
        await session.execute(text("ALTER TABLE leases RENAME TO leases_away"))
    ran: list[str] = []

    async def job(stop: asyncio.Event) -> None:
        ran.append("job")

    stopping, logged_error, said_again = asyncio.Event(), asyncio.Event(), asyncio.Event()
    caplog.set_level(logging.DEBUG, logger="outreach.store_errors")  # a repeat is said at DEBUG
    watch = logging.Handler(logging.DEBUG)
    watch.emit = lambda record: (logged_error if record.levelno >= logging.ERROR else said_again).set()  # type: ignore[method-assign]
    logging.getLogger("outreach.store_errors").addHandler(watch)
    try:
        running = asyncio.create_task(
            run_as_singleton(
                "telegram-polling",
                job,
                sessions=services.sessions,
                clock=services.clock,
                stopping=stopping,
                ttl=timedelta(seconds=0.03),  # a renewal every 10 ms: several failed holds in the test
                holder="worker-a",
            )
        )
        with contextlib.suppress(TimeoutError):  # before the fix: nothing logged, until the guard
            await asyncio.wait_for(logged_error.wait(), GUARD_SECONDS)
        with contextlib.suppress(TimeoutError):  # a later failed hold: said again, not at ERROR
            await asyncio.wait_for(said_again.wait(), GUARD_SECONDS)
        stopping.set()
        await asyncio.wait_for(running, GUARD_SECONDS)
    finally:
        logging.getLogger("outreach.store_errors").removeHandler(watch)
        async with services.sessions() as session, session.begin():
            await session.execute(text("ALTER TABLE leases_away RENAME TO leases"))
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert len(errors) == 1 and "telegram-polling lease" in errors[0] and "leases" in errors[0], errors
    assert "worker-a" not in caplog.text  # a parameter of the statement
    assert said_again.is_set() and ran == []
