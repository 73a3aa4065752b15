"""Grouped commits on a real database: work submitted together shares one commit, each caller is
answered only after the commit that holds its work, and a failure in a group runs every member alone:
nobody lost, nobody stored twice."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col

from outreach.bootstrap import Services
from storage.db import SessionFactory, session_factory
from storage.group_commit import GroupCommit
from storage.inbound import InboundRepository
from storage.tables import InboundEvent


def writer(services: Services) -> AsyncEngine:
    """The engine serve groups inbound commits on: SQLite's own inline writer (storage.sqlite_writer)."""
    return services.inbound_engine or services.engine


def grouped_sessions(services: Services) -> SessionFactory:
    return session_factory(writer(services), services.keyring)


def storing(services: Services, provider_id: str) -> Callable[[AsyncSession], Awaitable[int | None]]:
    """Work that stores one inbound event and returns its id (None: the id was stored before)."""

    async def work(session: AsyncSession) -> int | None:
        event_row = InboundEvent(
            channel="sms", provider_id=provider_id, text="tak", outcome="received", received_at=services.clock()
        )
        return await InboundRepository(session).record_new(event_row)

    return work


async def stored(services: Services) -> list[str]:
    async with services.sessions() as session:
        rows = await session.execute(select(col(InboundEvent.provider_id)).order_by(col(InboundEvent.provider_id)))
        return list(rows.scalars())


async def test_work_submitted_together_shares_one_commit(services: Services) -> None:
    grouped = GroupCommit(grouped_sessions(services))
    ids = await asyncio.gather(*(grouped.run(storing(services, f"SM{n}")) for n in range(10)))
    assert grouped.commits == 1
    assert len(set(ids)) == 10 and None not in ids  # each caller got its own work's result
    assert await stored(services) == sorted(f"SM{n}" for n in range(10))


async def test_each_caller_is_answered_only_after_the_commit_that_holds_its_work(services: Services) -> None:
    grouped = GroupCommit(grouped_sessions(services), max_group=4)
    answered: list[str] = []
    answered_at_commit: list[int] = []
    visible_on_answer: list[bool] = []

    def on_commit(_connection: Any) -> None:
        answered_at_commit.append(len(answered))

    async def caller(provider_id: str) -> None:
        await grouped.run(storing(services, provider_id))
        answered.append(provider_id)
        async with services.sessions() as session:  # another connection: only committed rows show
            count = await session.scalar(
                select(func.count()).select_from(InboundEvent).where(col(InboundEvent.provider_id) == provider_id)
            )
        visible_on_answer.append(count == 1)

    event.listen(writer(services).sync_engine, "commit", on_commit)
    try:
        await asyncio.gather(*(caller(f"SM{n}") for n in range(10)))
    finally:
        event.remove(writer(services).sync_engine, "commit", on_commit)
    assert grouped.commits == 3 and len(answered_at_commit) == 3  # groups of 4, 4 and 2
    # At the n-th commit, at most the callers of the n groups before it had their answer.
    assert all(count <= 4 * index for index, count in enumerate(answered_at_commit))
    assert answered_at_commit[0] == 0
    assert visible_on_answer == [True] * 10


async def test_a_member_that_fails_rolls_back_its_group_and_the_others_are_stored_once(services: Services) -> None:
    grouped = GroupCommit(grouped_sessions(services))

    async def fails_after_writing(session: AsyncSession) -> int | None:
        await storing(services, "SM-bad")(session)  # written, then the work fails: it must not stay
        raise ValueError("refused")

    works = [storing(services, f"SM{n}") for n in range(4)]
    works.insert(2, fails_after_writing)
    results = await asyncio.gather(*(grouped.run(work) for work in works), return_exceptions=True)
    assert isinstance(results[2], ValueError)  # the failing caller gets its own error
    assert all(isinstance(result, int) for index, result in enumerate(results) if index != 2)
    assert await stored(services) == ["SM0", "SM1", "SM2", "SM3"]  # once each, the failed one not at all
    assert grouped.commits == 4  # the group rolled back; the four good members committed alone


async def test_a_failed_commit_runs_every_member_alone(services: Services) -> None:
    grouped = GroupCommit(grouped_sessions(services))
    failures = iter([True])

    def refuse_first_commit(_connection: Any) -> None:
        if next(failures, False):
            raise ConnectionError("the commit did not reach the disk")

    event.listen(writer(services).sync_engine, "commit", refuse_first_commit)
    try:
        ids = await asyncio.gather(*(grouped.run(storing(services, f"SM{n}")) for n in range(5)))
    finally:
        event.remove(writer(services).sync_engine, "commit", refuse_first_commit)
    assert None not in ids
    assert await stored(services) == [f"SM{n}" for n in range(5)]
    assert grouped.commits == 5


async def test_the_same_provider_id_twice_in_one_group_is_stored_once(services: Services) -> None:
    grouped = GroupCommit(grouped_sessions(services))
    ids = await asyncio.gather(grouped.run(storing(services, "SM1")), grouped.run(storing(services, "SM1")))
    assert grouped.commits == 1
    assert ids[0] is not None and ids[1] is None  # the second is a duplicate of the first, in the same transaction
    assert await stored(services) == ["SM1"]


async def test_a_lone_request_waits_for_nobody(services: Services) -> None:
    grouped = GroupCommit(grouped_sessions(services))
    assert await grouped.run(storing(services, "SM1")) is not None
    assert grouped.commits == 1


async def test_work_run_first_goes_ahead_and_its_group_takes_few_of_the_rest(services: Services) -> None:
    grouped = GroupCommit(grouped_sessions(services), max_behind=1)
    groups: list[list[str]] = []
    current: list[str] = []

    def recording(name: str) -> Callable[[AsyncSession], Awaitable[int | None]]:
        async def work(session: AsyncSession) -> int | None:
            current.append(name)
            return await storing(services, name)(session)

        return work

    def on_commit(_connection: Any) -> None:
        groups.append(list(current))
        current.clear()

    event.listen(writer(services).sync_engine, "commit", on_commit)
    try:
        # Queued in this order while nothing runs yet: four replies, then two stored messages.
        await asyncio.gather(
            *(grouped.run(recording(f"reply{n}")) for n in range(4)),
            *(grouped.run(recording(f"stored{n}"), first=True) for n in range(2)),
        )
    finally:
        event.remove(writer(services).sync_engine, "commit", on_commit)
    # The stored messages first, with one reply; then the remaining replies together (nothing goes first).
    assert groups == [["stored0", "stored1", "reply0"], ["reply1", "reply2", "reply3"]]
