"""Telegram long polling (outreach.inbound.telegram_updates) through a store defect: said at ERROR."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest
from sqlalchemy import text

from channels.telegram import TelegramChannel
from outreach.inbound.telegram_updates import poll
from outreach.store_errors import DEFECT_PAUSE_SECONDS
from tests.conftest import ManualClock
from tests.world import open_world

CHAT = 616161
GUARD_SECONDS = 10  # a wait for a log line that never comes fails instead of hanging


async def test_an_update_that_meets_a_schema_defect_is_an_error_once_not_a_warning_every_pause(
    database_url: str, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    async with open_world(database_url, clock, telegram=True) as world:
        channel = world.services.channels["telegram"]
        assert isinstance(channel, TelegramChannel)
        world.telegram.push_update(world.telegram.message_update(CHAT, "tak"))
        # A real defect: the inbound events' table renamed away, as a half-applied change left it.
        async with world.services.sessions() as session, session.begin():
            await session.execute(text("ALTER TABLE inbound_events RENAME TO inbound_events_away"))
        stopping, logged_error = asyncio.Event(), asyncio.Event()
        watch = logging.Handler(logging.ERROR)
        watch.emit = lambda record: logged_error.set()  # type: ignore[method-assign]
        logging.getLogger().addHandler(watch)
        try:
            polling = asyncio.create_task(poll(world.services, channel, stopping))
            with contextlib.suppress(TimeoutError):  # before the fix: a warning every 5 s, until the guard
                await asyncio.wait_for(logged_error.wait(), GUARD_SECONDS)
            stopping.set()
            await asyncio.wait_for(polling, GUARD_SECONDS)
        finally:
            logging.getLogger().removeHandler(watch)
            async with world.services.sessions() as session, session.begin():
                await session.execute(text("ALTER TABLE inbound_events_away RENAME TO inbound_events"))
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert len(errors) == 1 and "telegram polling" in errors[0] and "inbound_events" in errors[0], errors
    assert f"retrying in {DEFECT_PAUSE_SECONDS:.0f} s" in errors[0]
    assert "trying again" not in caplog.text and str(CHAT) not in caplog.text
