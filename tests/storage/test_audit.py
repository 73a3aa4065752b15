"""The audit log's table: entries read back newest first, filtered and paged; the database itself
refuses to change or delete one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, update
from sqlalchemy.exc import DBAPIError

from outreach.bootstrap import Services
from storage.audit import AuditFilter, AuditRepository
from storage.tables import AuditEntry

START = datetime(2027, 1, 28, 9, 0, tzinfo=UTC)
ACTIONS = ["campaign.create", "campaign.launch", "export", "token.create", "campaign.close"]


async def _five_entries(services: Services) -> None:
    async with services.sessions() as session, session.begin():
        repository = AuditRepository(session)
        for hour, action in enumerate(ACTIONS):
            await repository.add(
                at=START + timedelta(hours=hour),
                actor_kind="cli",
                actor_id="anna",
                actor_label="anna",
                action=action,
                target_kind="campaign",
                target_id="1",
                details={"hour": hour},
            )


@pytest.mark.parametrize(
    ("which", "expected"),
    [
        (AuditFilter(), list(reversed(ACTIONS))),
        (AuditFilter(action="export"), ["export"]),
        (AuditFilter(action="campaign."), ["campaign.close", "campaign.launch", "campaign.create"]),
        (AuditFilter(action="campaign"), []),  # a prefix ends in a dot; without it, only that exact action
        (AuditFilter(since=START + timedelta(hours=3)), ["campaign.close", "token.create"]),
        (AuditFilter(until=START + timedelta(hours=1)), ["campaign.create"]),
        (AuditFilter(action="campaign.", since=START + timedelta(hours=1)), ["campaign.close", "campaign.launch"]),
    ],
)
async def test_entries_are_read_newest_first_by_action_and_time(
    services: Services, which: AuditFilter, expected: list[str]
) -> None:
    await _five_entries(services)
    async with services.sessions() as session:
        entries = await AuditRepository(session).page(which, before_id=None, limit=10)
    assert [entry.action for entry in entries] == expected


async def test_pages_follow_each_other_without_gaps_or_repeats(services: Services) -> None:
    await _five_entries(services)
    seen: list[str] = []
    before: int | None = None
    async with services.sessions() as session:
        while page := await AuditRepository(session).page(AuditFilter(), before_id=before, limit=2):
            seen += [entry.action for entry in page]
            before = page[-1].id
    assert seen == list(reversed(ACTIONS))


@pytest.mark.parametrize("statement", ["update", "delete"])
async def test_the_database_refuses_to_change_or_delete_an_entry(services: Services, statement: str) -> None:
    await _five_entries(services)
    change = update(AuditEntry).values(actor_label="someone else") if statement == "update" else delete(AuditEntry)
    with pytest.raises(DBAPIError, match="append-only"):
        async with services.sessions() as session, session.begin():
            await session.execute(change)
    async with services.sessions() as session:
        entries = await AuditRepository(session).page(AuditFilter(), before_id=None, limit=10)
    assert {entry.actor_label for entry in entries} == {"anna"} and len(entries) == 5
