"""Grouped commits: transactions that arrive together share one transaction and one commit (SQLite).

SQLite has one writer at a time. Concurrent webhook transactions would each wait for the write lock in
SQLite's busy handler (which sleeps, up to 100 ms a turn) and then commit alone. `GroupCommit` queues
them in the process instead: while one group's transaction runs, new work waits; the next group takes
all that waits (up to `max_group`) into one transaction with one commit. Nothing waits on a timer: a
lone request starts at once, and groups form only under load.

Each caller gets its own work's result only after the commit that holds it (never before its data is
durable). When any member's work raises, or the commit fails, the whole group is rolled back and every
member runs again in a transaction of its own, as without grouping: its result, or its own error, goes
to its caller. A member's effects are thus stored once (in the group's commit or in its own), never
lost and never twice; work must therefore be safe to run again after a rollback (the inbound pipeline
is: it only writes through the session).

Work run `first` (a webhook's message stored before its answer, outreach.inbound.queue) goes into the
next group ahead of the rest, and such a group takes at most `max_behind` of the rest: whoever waits
for a `first` member's commit waits for one short group, not for a burst's handling.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import SessionFactory

log = logging.getLogger(__name__)

T = TypeVar("T")
Work = Callable[[AsyncSession], Awaitable[T]]

MAX_GROUP = 50  # a group's transaction stays short: tens of ms, so the last member's answer is not late


@dataclass
class _Member(Generic[T]):
    work: Work[T]
    first: bool = False
    answer: asyncio.Future[T] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class GroupCommit:
    def __init__(
        self,
        sessions: SessionFactory,
        *,
        max_group: int = MAX_GROUP,
        max_behind: int | None = None,
        turn: asyncio.Lock | None = None,
    ) -> None:
        """`turn`: a lock the process's other SQLite writers take too, so that they queue in order here
        rather than in SQLite's busy handler (its sleeps grow to 100 ms)."""
        self._turn = turn or asyncio.Lock()
        self._sessions = sessions
        self._max_group = max_group
        self._max_behind = max_group if max_behind is None else max_behind
        self._waiting: list[_Member[Any]] = []
        self._drainer: asyncio.Task[None] | None = None
        self.commits = 0  # groups committed (read by tests and the benchmark's profile)

    async def run(self, work: Work[T], *, first: bool = False) -> T:
        """`work`'s result once it is committed; its error when it fails alone. `first`: ahead of the
        work that is not."""
        member: _Member[T] = _Member(work, first)
        self._waiting.append(member)
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain())
        return await member.answer

    async def _drain(self) -> None:
        try:
            while self._waiting:
                group = self._next_group()
                await self._commit(group)
        finally:  # cancelled with the loop: nobody waits forever
            for member in self._waiting:
                member.answer.cancel()

    def _next_group(self) -> list[_Member[Any]]:
        """The members of the next group, taken out of the waiting list: the `first` ones, then the rest
        (up to `max_behind` when there were `first` ones), each kind in arrival order; `max_group` in all."""
        ahead = [member for member in self._waiting if member.first][: self._max_group]
        room = min(self._max_behind, self._max_group - len(ahead)) if ahead else self._max_group
        behind = [member for member in self._waiting if not member.first][:room]
        taken = {id(member) for member in [*ahead, *behind]}
        self._waiting = [member for member in self._waiting if id(member) not in taken]
        return [*ahead, *behind]

    async def _commit(self, group: list[_Member[Any]]) -> None:
        results: list[Any] = []
        try:
            async with self._turn, self._sessions() as session, session.begin():
                for member in group:
                    results.append(await member.work(session))
        except asyncio.CancelledError:
            for member in group:
                member.answer.cancel()
            raise
        except Exception as error:  # any member's error or the commit's: each runs alone, and raises its own
            log.info("a group of %d transactions rolled back (%s); each runs alone", len(group), type(error).__name__)
            for member in group:
                await self._alone(member)
            return
        self.commits += 1
        for member, result in zip(group, results, strict=True):
            if not member.answer.done():  # its caller may have gone (a client that hung up)
                member.answer.set_result(result)

    async def _alone(self, member: _Member[Any]) -> None:
        try:
            async with self._turn, self._sessions() as session, session.begin():
                result = await member.work(session)
        except asyncio.CancelledError:
            member.answer.cancel()
            raise
        except Exception as error:
            if not member.answer.done():
                member.answer.set_exception(error)
            return
        self.commits += 1
        if not member.answer.done():
            member.answer.set_result(result)
