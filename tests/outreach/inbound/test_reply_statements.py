"""What an answered reply costs the database: the statements of its transaction (issue 18: each costs
0.1-0.2 ms of SQLAlchemy on SQLite, a round trip on PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from outreach.bootstrap import Services
from outreach.inbound.pipeline import Outcome
from storage.webhook_event_types import RESPONSE_CREATED
from storage.webhook_subscribers import SubscriberRepository
from storage.webhook_tables import WebhookEvent
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
        "INSERT INTO responses",  # no subscriber takes answers (read with the sender): no event looked for
        "INSERT INTO outbox",  # the next question
        "UPDATE conversations",  # one prebuilt statement, not the ORM's flush
    ]


async def test_an_answer_a_subscriber_takes_writes_its_event_too(services: Services) -> None:
    await add_resident(services, phone=PHONE)
    campaign_id = await launch(services)
    async with services.sessions() as session, session.begin():
        await SubscriberRepository(session).add(
            url="https://hooks.example.org", events=[RESPONSE_CREATED], secret="s", now=services.clock()
        )
    with statements_run(services) as seen:
        assert await reply(services, PHONE, "tak") is Outcome.ANSWERED
    assert "INSERT INTO webhook_events" in seen
    async with services.sessions() as session:
        kind, campaign = col(WebhookEvent.type), col(WebhookEvent.campaign_id)
        events = await session.execute(select(kind, campaign, func.count()).group_by(kind, campaign))
        assert events.all() == [(RESPONSE_CREATED, campaign_id, 1)]
