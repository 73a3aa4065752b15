"""Account changes an admin makes on the pages (outreach.officials.management) under concurrency: two
admins demoting each other at once must not leave the service without one. SQLite runs write
transactions one at a time already; on PostgreSQL the admins' rows are locked while it is checked."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from outreach.audit import Actor
from outreach.bootstrap import Services
from outreach.officials.accounts import account_policy, add_official
from outreach.officials.management import LastAdmin, change_role
from storage.db import read_session
from storage.officials import OfficialRepository
from tests.conftest import DATABASES

ACTOR = Actor("official", "1", "test")


async def admin(services: Services, email: str) -> int:
    policy = account_policy(services.settings)
    await add_official(services.sessions, email, "admin", now=services.clock(), policy=policy)
    async with read_session(services.sessions) as session:
        found = await OfficialRepository(session).by_email(email)
    assert found is not None and found.id is not None
    return found.id


async def waiting_for_a_lock(services: Services) -> bool:
    async with services.sessions() as session:
        result = await session.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted"))
        return bool(result.scalar_one())


@pytest.mark.skipif("postgresql" not in DATABASES, reason="row locks are PostgreSQL's")
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_two_admins_demoting_each_other_at_once_leave_one_admin(services: Services) -> None:
    first = await admin(services, "anna.nowak@gdansk.gda.pl")
    second = await admin(services, "jan.kowalski@gdansk.gda.pl")
    async with services.sessions() as session, session.begin():
        # The first demotion, in progress: it has checked that another admin remains, not yet committed.
        officials = OfficialRepository(session)
        assert [found.id for found in await officials.active_admins()] == [first, second]
        demoted = await officials.get(first)
        assert demoted is not None
        demoted.role = "editor"
        await session.flush()
        other = asyncio.create_task(change_role(services.sessions, second, "editor", now=services.clock(), actor=ACTOR))
        while not other.done():  # until the second demotion waits for the first's locks (or ends)
            if await waiting_for_a_lock(services):
                break
        assert not other.done(), "the second demotion did not wait for the first"
    with pytest.raises(LastAdmin):
        await other
    async with read_session(services.sessions) as session:
        roles = {found.id: found.role for found in await OfficialRepository(session).all()}
    assert roles == {first: "editor", second: "admin"}
