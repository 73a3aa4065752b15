"""`outreach keys rotate` while the service reads: two keys in the ring, a row under the old key is
read (found by its blind index, opened for a send), new rows go under the new key, the rotation
moves every row in batches and is audit-logged; a worker without the new key, or with a wrong key
under the old id, fails with an error naming the key, never reads garbage."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy import select
from sqlmodel import col

from channels.base import Inbound
from outreach.audit import KEY_ROTATE, Actor
from outreach.bootstrap import Services, bootstrap
from outreach.inbound.spool import decode
from outreach.rights.key_rotation import rotate
from outreach.settings import Settings
from storage import inbound_queue
from storage.address_keys import address_keys, address_of
from storage.inbound import InboundRepository
from storage.inbound_queue import NewQueued
from storage.key_rotation import rows_by_key
from storage.residents import ResidentRepository
from storage.sealing import SealedValueUnreadable
from storage.tables import AuditEntry, InboundEvent
from tests.conftest import ManualClock
from tests.factories import add_resident
from tests.providers import BLIND_INDEX_KEY, ENCRYPTION_KEY_1, ENCRYPTION_KEY_2, SANDBOX_SECRET

PHONES = [f"+4860030000{n}" for n in range(5)]
NEWCOMER = "+48600300099"
REPLY = "dzwońcie pod 601 234 567"
Wire = Callable[[str], Services]


@pytest.fixture
async def wire(database_url: str, clock: ManualClock) -> AsyncIterator[Wire]:
    """Services over the one test database with the given ring, as a worker configured so would be."""
    made: list[Services] = []

    def with_keys(ring: str) -> Services:
        settings = Settings(
            database_url=database_url,
            sandbox_secret=SANDBOX_SECRET,
            encryption_keys=ring,
            blind_index_key=BLIND_INDEX_KEY,
            _env_file=None,
        )
        made.append(bootstrap(settings, clock=clock, worker_id=f"worker-{len(made)}"))
        return made[-1]

    yield with_keys
    for services in made:
        await services.close()


async def read_address(services: Services, phone: str) -> str:
    async with services.sessions() as session:
        residents = ResidentRepository(session)
        contact = await residents.contact_by_address("sms", phone)
        assert contact is not None, "found by its blind index"
        return address_of(session, contact)


async def test_rows_under_the_old_key_are_read_until_rotated_and_every_row_ends_under_the_new(wire: Wire) -> None:
    old = wire(f"k1:{ENCRYPTION_KEY_1}")
    for phone in PHONES:
        await add_resident(old, phone=phone)
    async with old.sessions() as session, session.begin():  # a message a resident sent, under k1 too
        event = InboundEvent(channel="sms", provider_id="SM1", text=REPLY, outcome="answered", received_at=old.clock())
        await InboundRepository(session).record_new(event)
    both = wire(f"k2:{ENCRYPTION_KEY_2},k1:{ENCRYPTION_KEY_1}")  # the new key first, the old kept after it
    assert [await read_address(both, phone) for phone in PHONES] == PHONES
    await add_resident(both, phone=NEWCOMER)  # written while rotating: under the new key
    async with both.sessions() as session:
        assert await rows_by_key(session) == {"k2": 1, "k1": 5, "other": 0}

    # A worker that does not have the new key yet cannot read the new row, and says which key it lacks.
    with pytest.raises(SealedValueUnreadable, match="sealed under key 'k2', which OUTREACH_ENCRYPTION_KEYS does not"):
        await read_address(old, NEWCOMER)

    heard: list[int] = []
    done = await rotate(
        both.sessions, both.keyring, clock=both.clock, actor=Actor.cli(), batch=2, progress=heard.append
    )
    assert (done.current, done.resealed, done.left) == ("k2", 6, {"k2": 6, "k1": 0, "other": 0})
    assert done.messages == {"k2": 1, "k1": 0, "other": 0}
    assert heard == [2, 4, 5, 6]  # bounded batches (addresses, then messages), the count as it goes

    new_only = wire(f"k2:{ENCRYPTION_KEY_2}")  # the old key may leave the ring now
    async with new_only.sessions() as session:
        [kept] = (await session.execute(select(InboundEvent))).scalars()
        assert address_keys(session).open_message("sms", "text", kept.text) == REPLY
    assert [await read_address(new_only, phone) for phone in [*PHONES, NEWCOMER]] == [*PHONES, NEWCOMER]
    async with new_only.sessions() as session:
        [entry] = (await session.execute(select(AuditEntry).where(col(AuditEntry.action) == KEY_ROTATE))).scalars()
        assert (entry.target_id, entry.details) == ("k2", {"resealed": 6, "ring": ["k2", "k1"]})
    again = await rotate(both.sessions, both.keyring, clock=both.clock, actor=Actor.cli())
    assert (again.resealed, again.left) == (0, {"k2": 6, "k1": 0, "other": 0})  # nothing left to do


async def test_replies_waiting_in_the_inbound_queue_move_to_the_new_key_and_an_unreadable_one_stays(
    wire: Wire,
) -> None:
    """A reply stored under the old key and not yet handled would be unreadable once the old key left
    the ring (set aside, never handled): the rotation moves it too, and `keys status` counts it."""
    old = wire(f"k1:{ENCRYPTION_KEY_1}")
    waiting = Inbound(channel="sms", provider_id="SM1", address=PHONES[0], text=REPLY, received_at=old.clock())
    await old.inbound_queue.put(waiting)  # its workers do not run here: it waits in the queue
    async with old.sessions() as session, session.begin():  # one no key of the ring opens, set aside
        rows = [NewQueued(channel="sms", address_index="x", payload="k9:bm90IGEga2V5")]
        await inbound_queue.add(session, rows, holder="worker-0", until=inbound_queue.SET_ASIDE_UNTIL)
    both = wire(f"k2:{ENCRYPTION_KEY_2},k1:{ENCRYPTION_KEY_1}")
    done = await rotate(both.sessions, both.keyring, clock=both.clock, actor=Actor.cli())
    assert (done.resealed, done.messages) == (1, {"k2": 1, "k1": 0, "other": 1})
    new_only = wire(f"k2:{ENCRYPTION_KEY_2}")
    async with new_only.sessions() as session:
        queue = inbound_queue.QUEUE
        payloads = (await session.execute(select(queue.c.payload).order_by(queue.c.id))).scalars().all()
        opened = decode(address_keys(session).sealer.open(payloads[0], binding=inbound_queue.SEALED_AS).encode())
    assert opened[1] == waiting and payloads[1] == "k9:bm90IGEga2V5"


async def test_a_wrong_key_under_the_old_id_is_a_clear_error_not_garbage(wire: Wire) -> None:
    right = wire(f"k1:{ENCRYPTION_KEY_1}")
    await add_resident(right, phone=PHONES[0])
    impostor = wire(f"k2:{ENCRYPTION_KEY_2},k1:{BLIND_INDEX_KEY}")  # k1 given wrong (another 32-byte key)
    with pytest.raises(SealedValueUnreadable, match="sealed under key 'k1' does not open"):
        await read_address(impostor, PHONES[0])
    with pytest.raises(SealedValueUnreadable):  # the rotation stops at the first row it cannot open
        await rotate(impostor.sessions, impostor.keyring, clock=impostor.clock, actor=Actor.cli())
    async with right.sessions() as session:
        contact = await ResidentRepository(session).contact_by_address("sms", PHONES[0])
        assert contact is not None and address_of(session, contact) == PHONES[0]  # untouched
