"""What an answered reply costs the database: the statements of its transaction (issue 18: each costs
0.1-0.2 ms of SQLAlchemy on SQLite, a round trip on PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from outreach.bootstrap import Services
from outreach.inbound.pipeline import Outcome
from tests.factories import add_resident
from tests.outreach.helpers import launch, reply

PHONE = "+48600100200"


@contextmanager
def statements_run(services: Services) -> Iterator[list[str]]:
    """The statements every engine of `services` runs meanwhile, each as its first words."""
    engines: list[AsyncEngine] = [services.engine]
    if services.inbound_engine is not None:
        engines.append(services.inbound_engine)
    seen: list[str] = []

    def note(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        words = statement.split()
        # A write names its table: INSERT INTO t, UPDATE t; a read is told by its kind alone.
        seen.append(" ".join(words[:3] if words[0] == "INSERT" else words[:2] if words[0] == "UPDATE" else words[:1]))

    for engine in engines:
        event.listen(engine.sync_engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine.sync_engine, "before_cursor_execute", note)


async def test_an_answer_runs_only_the_statements_it_needs(services: Services) -> None:
    await add_resident(services, phone=PHONE)
    await launch(services)
    with statements_run(services) as seen:
        assert await reply(services, PHONE, "tak") is Outcome.ANSWERED
    assert [statement for statement in seen if not statement.startswith("BEGIN")] == [
        "SELECT",  # the sender: contact, resident, open conversation, campaign (storage.inbound)
        "INSERT INTO inbound_events",  # with its outcome: no UPDATE of it after
        "UPDATE contact_addresses",  # the address works (note_inbound)
        "INSERT INTO responses",
        "INSERT INTO webhook_events",  # when a subscriber wants it
        "INSERT INTO outbox",  # the next question
        "UPDATE conversations",  # one prebuilt statement, not the ORM's flush
    ]
