"""Leases: one holder at a time, renewed by its holder, taken over once it runs out."""

from __future__ import annotations

from datetime import timedelta

from outreach.bootstrap import Services
from storage.leases import hold_lease, release_lease
from tests.conftest import ManualClock

TTL = timedelta(seconds=60)


async def _hold(services: Services, holder: str) -> bool:
    async with services.sessions() as session, session.begin():
        return await hold_lease(session, "imap-poller", holder=holder, now=services.clock(), ttl=TTL)


async def test_one_holder_at_a_time_until_the_lease_runs_out(services: Services, clock: ManualClock) -> None:
    assert await _hold(services, "worker-a")
    assert not await _hold(services, "worker-b")
    clock.advance(seconds=40)
    assert await _hold(services, "worker-a")  # renewed: 60 s more from now
    clock.advance(seconds=40)
    assert not await _hold(services, "worker-b")
    clock.advance(seconds=21)  # worker-a stopped renewing: it died
    assert await _hold(services, "worker-b")
    assert not await _hold(services, "worker-a")


async def test_a_released_lease_is_free_at_once(services: Services) -> None:
    assert await _hold(services, "worker-a")
    async with services.sessions() as session, session.begin():
        await release_lease(session, "imap-poller", holder="worker-b", now=services.clock())  # not theirs
    assert not await _hold(services, "worker-b")
    async with services.sessions() as session, session.begin():
        await release_lease(session, "imap-poller", holder="worker-a", now=services.clock())
    assert await _hold(services, "worker-b")
