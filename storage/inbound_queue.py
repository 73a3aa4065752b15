"""The inbound queue's rows: webhook messages stored before they are handled (outreach.inbound.queue).

A row is written when the webhook arrives, held by the worker that wrote it (`taken_by`) until
`taken_until`, and deleted in the transaction that handles it. A row whose worker died (its time ran
out) is taken over by any worker; so is a row its own worker let go of (an outage cut its handling).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Table, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.statements import run
from storage.tables import QueuedInbound

QUEUE: Table = QueuedInbound.__table__  # type: ignore[attr-defined]
SEALED_AS = "inbound-queue"  # a row's payload opens as nothing else (storage.sealing's binding)


@dataclass(frozen=True)
class NewQueued:
    channel: str
    address_index: str  # the sender's blind index (storage.blind_index): what an erasure finds it by
    payload: str  # sealed by the caller: the queue never sees a message in the clear


@dataclass(frozen=True)
class Taken:
    id: int
    payload: str


# Ids in the order of the rows given: SQLAlchemy's "insertmanyvalues" batches them into one INSERT.
_ADD = insert(QUEUE).returning(QUEUE.c.id, sort_by_parameter_order=True)
_REMOVE = delete(QUEUE).where(QUEUE.c.id == bindparam("queued_id"))
SET_ASIDE_UNTIL = datetime(9999, 1, 1, tzinfo=UTC)  # a row nobody can read: kept for an operator, never retaken
# Free to take: its worker's time ran out, or it is this worker's own (one it let go of).
_FREE = or_(QUEUE.c.taken_until <= bindparam("now"), QUEUE.c.taken_by == bindparam("holder"))
# ... and none of its sender's earlier messages is in another live worker's hands: a sender's messages
# are handled in arrival order even when several processes sweep (a set-aside one holds no one up).
_EARLIER = QUEUE.alias("earlier")
_NOT_BEHIND_ANOTHER = ~(
    select(_EARLIER.c.id)
    .where(
        _EARLIER.c.address_index == QUEUE.c.address_index,
        _EARLIER.c.id < QUEUE.c.id,
        _EARLIER.c.taken_by != bindparam("holder"),
        _EARLIER.c.taken_until > bindparam("now"),
        _EARLIER.c.taken_until < SET_ASIDE_UNTIL,
    )
    .exists()
)


async def add(session: AsyncSession, rows: Sequence[NewQueued], *, holder: str, until: datetime) -> list[int]:
    """Queue `rows`, held by `holder` until `until`; their ids, in order (arrival order: ids grow)."""
    connection = await session.connection()
    values = [
        {
            "channel": row.channel,
            "address_index": row.address_index,
            "payload": row.payload,
            "taken_by": holder,
            "taken_until": until,
        }
        for row in rows
    ]
    result = await connection.execute(_ADD, values)
    return [int(queued_id) for queued_id in result.scalars()]


async def remove(session: AsyncSession, queued_id: int) -> None:
    """The row is handled: gone with the transaction that handled it."""
    await run(session, _REMOVE, {"queued_id": queued_id})


async def take(
    session: AsyncSession, *, holder: str, now: datetime, until: datetime, skip: Collection[int], limit: int
) -> list[Taken]:
    """The oldest rows free to take (but those in `skip`: `holder` has them in hand, and those whose
    sender has an earlier one in another worker's hands, or being taken by another sweep), now held by
    `holder` until `until`. One UPDATE decides: two workers taking at once never both get a row."""
    parameters = {"holder": holder, "now": now}
    # PostgreSQL: rows another sweep is taking are skipped, not waited for (two sweeps share the work).
    candidates = (
        select(QUEUE.c.id, QUEUE.c.address_index)
        .where(_FREE, _NOT_BEHIND_ANOTHER)
        .order_by(QUEUE.c.id)
        .limit(limit + len(skip))
    )
    found = list(await session.execute(candidates.with_for_update(skip_locked=True), parameters))
    rows = [(int(row.id), str(row.address_index)) for row in found if row.id not in skip][:limit]
    if not rows:
        return []
    wanted = await _in_order(session, rows, holder=holder, now=now)
    taken = await session.execute(
        update(QUEUE)
        .where(QUEUE.c.id.in_(wanted))
        .where(_FREE)
        .values(taken_by=holder, taken_until=until)
        .returning(QUEUE.c.id, QUEUE.c.payload),
        parameters,
    )
    return sorted((Taken(int(row.id), row.payload) for row in taken), key=lambda row: row.id)


async def _in_order(session: AsyncSession, rows: list[tuple[int, str]], *, holder: str, now: datetime) -> list[int]:
    """The ids of `rows` (id, sender; ours, locked) not behind a free earlier message of their sender
    that is not among them: another sweep is taking that one at this moment (PostgreSQL skipped its
    lock), so the later ones wait for the next sweep rather than overtake it."""
    ours = {queued_id for queued_id, _ in rows}
    elsewhere = await session.execute(
        select(QUEUE.c.id, QUEUE.c.address_index).where(
            QUEUE.c.address_index.in_({sender for _, sender in rows}),
            QUEUE.c.id < max(ours),
            QUEUE.c.taken_by != holder,
            QUEUE.c.taken_until <= now,
        )
    )
    first_elsewhere: dict[str, int] = {}
    for row in elsewhere:
        if row.id not in ours:
            first_elsewhere[row.address_index] = min(row.id, first_elsewhere.get(row.address_index, row.id))
    return [queued_id for queued_id, sender in rows if queued_id < first_elsewhere.get(sender, queued_id + 1)]


async def set_aside(session: AsyncSession, queued_id: int, *, until: datetime) -> None:
    """A row nobody can read: kept (for an operator), out of every sweep's way."""
    await session.execute(update(QUEUE).where(QUEUE.c.id == queued_id).values(taken_until=until))


async def let_go(session: AsyncSession, *, holder: str, now: datetime) -> int:
    """A worker stopping: its rows free for the others at once (not after its time runs out)."""
    result = await session.execute(update(QUEUE).where(QUEUE.c.taken_by == holder).values(taken_until=now))
    return int(result.rowcount)  # type: ignore[attr-defined]


async def forget(session: AsyncSession, address_indexes: Collection[str]) -> int:
    """Remove the waiting messages of these senders (an erasure); how many."""
    if not address_indexes:
        return 0
    result = await session.execute(delete(QUEUE).where(QUEUE.c.address_index.in_(list(address_indexes))))
    return int(result.rowcount)  # type: ignore[attr-defined]


async def waiting(session: AsyncSession) -> int:
    """Messages stored and not yet handled, by every worker."""
    return int((await session.execute(select(func.count()).select_from(QUEUE))).scalar_one())
