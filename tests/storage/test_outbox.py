from __future__ import annotations

from datetime import timedelta

from outreach.bootstrap import Services
from storage.outbox import NewMessage, OutboxRepository
from storage.tables import OutboxMessage
from tests.conftest import ManualClock
from tests.factories import add_resident


async def _queue(services: Services, count: int, prefix: str = "k") -> None:
    resident = await add_resident(services, phone="+48600100200")
    async with services.sessions() as session, session.begin():
        from storage.residents import ResidentRepository

        contact = await ResidentRepository(session).contact_by_address("sms", "+48600100200")
        assert contact is not None and contact.id is not None and resident.id is not None
        outbox = OutboxRepository(session)
        for number in range(count):
            await outbox.enqueue(
                NewMessage(f"{prefix}{number}", resident.id, contact.id, "question", f"text {number}"),
                now=services.clock(),
            )


async def test_enqueue_is_once_per_idempotency_key(services: Services) -> None:
    await _queue(services, 3)
    await _queue(services, 3)  # the same keys again
    async with services.sessions() as session:
        counts = await OutboxRepository(session).count_by_status()
    assert counts == {"queued": 3}


async def test_claim_takes_each_due_row_once_and_respects_the_limit(services: Services) -> None:
    await _queue(services, 5)
    async with services.sessions() as session, session.begin():
        first = await OutboxRepository(session).claim_due(worker="a", now=services.clock(), limit=3)
    async with services.sessions() as session, session.begin():
        second = await OutboxRepository(session).claim_due(worker="b", now=services.clock(), limit=3)
    async with services.sessions() as session, session.begin():
        third = await OutboxRepository(session).claim_due(worker="c", now=services.clock(), limit=3)
    assert [m.idempotency_key for m in first] == ["k0", "k1", "k2"]
    assert [m.idempotency_key for m in second] == ["k3", "k4"]
    assert third == []
    assert all(m.attempts == 1 and m.address == "+48600100200" and m.channel == "sms" for m in first + second)


async def test_a_retry_is_not_due_before_its_time(services: Services, clock: ManualClock) -> None:
    await _queue(services, 1)
    async with services.sessions() as session, session.begin():
        [message] = await OutboxRepository(session).claim_due(worker="a", now=clock(), limit=10)
        clock.advance(seconds=30)
        await OutboxRepository(session).mark_retry(message.id, at=clock.now, detail="503")
    clock.advance(seconds=-1)
    async with services.sessions() as session, session.begin():
        assert await OutboxRepository(session).claim_due(worker="a", now=clock(), limit=10) == []
    clock.advance(seconds=1)
    async with services.sessions() as session, session.begin():
        [again] = await OutboxRepository(session).claim_due(worker="a", now=clock(), limit=10)
    assert again.attempts == 2


async def test_a_worker_defers_only_a_claim_it_still_holds(services: Services, clock: ManualClock) -> None:
    """A claim taken over after its lease may be sending elsewhere: the worker that lost it, finding
    quiet hours begun, must not queue it again (it would go twice)."""
    await _queue(services, 1)
    async with services.sessions() as session, session.begin():
        [message] = await OutboxRepository(session).claim_due(worker="b", now=clock(), limit=10)  # b took it over
    morning = clock.now + timedelta(hours=10)
    async with services.sessions() as session, session.begin():
        await OutboxRepository(session).defer(message.id, until=morning, worker="a")
    async with services.sessions() as session:
        row = await session.get(OutboxMessage, message.id)
        assert row is not None and (row.status, row.claimed_by, row.attempts) == ("claimed", "b", 1)
    async with services.sessions() as session, session.begin():
        await OutboxRepository(session).defer(message.id, until=morning, worker="b")
    async with services.sessions() as session:
        row = await session.get(OutboxMessage, message.id)
        assert row is not None and (row.status, row.claimed_by, row.attempts) == ("queued", None, 0)
        assert row.next_attempt_at == morning
