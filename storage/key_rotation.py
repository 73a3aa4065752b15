"""Moving sealed addresses to the current key, a bounded batch per transaction, while the service
runs: a row is rewritten only if it still holds what was read (a worker that changed it meanwhile
wins), and every worker opens rows under any key of the ring meanwhile (storage.sealing)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Row, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.address_keys import address_keys
from storage.inbound_queue import QUEUE, SEALED_AS
from storage.sealing import SealedValueUnreadable
from storage.tables import ContactAddress, InboundEvent


@dataclass(frozen=True)
class Resealed:
    examined: int  # rows read in this batch
    resealed: int  # of them, rows moved to the current key
    last_id: int | None  # where the next batch starts after; None: no row was left


async def reseal_batch(session: AsyncSession, *, after_id: int, limit: int) -> Resealed:
    """The next `limit` addresses after `after_id` not under the current key, sealed under it."""
    keys = address_keys(session)
    addresses = ContactAddress.__table__  # type: ignore[attr-defined]

    def fresh(row: Row[*tuple[Any, ...]]) -> str:
        return keys.seal(row.channel, keys.open(row.channel, row.address_sealed))  # decrypted in memory only

    return await _reseal_column(
        session, addresses.c.address_sealed, fresh, carried=(addresses.c.channel,), after_id=after_id, limit=limit
    )


async def _reseal_column(
    session: AsyncSession,
    sealed: Column[str],
    fresh: Callable[[Row[*tuple[Any, ...]]], str | None],
    *,
    carried: tuple[Column[Any], ...] = (),
    after_id: int,
    limit: int,
) -> Resealed:
    """The next `limit` rows of `sealed`'s table after `after_id` whose `sealed` is not under the
    current key, each rewritten to `fresh(row)` (None: left as it is) if it still holds what was read.
    A row holds its id, the `carried` columns, then `sealed`."""
    table = sealed.table
    current = f"{address_keys(session).keyring.current_id}:%"
    rows = (
        await session.execute(
            select(table.c.id, *carried, sealed)
            .where(table.c.id > after_id)
            .where(sealed.not_like(current))
            .order_by(table.c.id)
            .limit(limit)
        )
    ).all()
    resealed = 0
    for row in rows:
        value = fresh(row)
        if value is None:
            continue
        changed = await session.execute(
            update(table).where(table.c.id == row.id).where(sealed == row[-1]).values({sealed.name: value})
        )
        resealed += int(changed.rowcount)  # type: ignore[attr-defined]
    return Resealed(len(rows), resealed, rows[-1][0] if rows else None)


async def reseal_messages_batch(session: AsyncSession, *, after_id: int, limit: int) -> Resealed:
    """The next `limit` residents' messages after `after_id` with a text not under the current key,
    sealed under it (a message retention blanked meanwhile is left blank)."""
    keys = address_keys(session)
    current = f"{keys.keyring.current_id}:%"
    text, full_text = col(InboundEvent.text), col(InboundEvent.full_text)
    stale = or_(and_(text != "", text.not_like(current)), and_(full_text.is_not(None), full_text.not_like(current)))
    rows = (
        await session.execute(
            select(col(InboundEvent.id), col(InboundEvent.channel), text, full_text)
            .where(col(InboundEvent.id) > after_id)
            .where(stale)
            .order_by(col(InboundEvent.id))
            .limit(limit)
        )
    ).all()
    resealed = 0
    for event_id, channel, sealed_text, sealed_full in rows:
        fresh = {
            part: keys.seal_message(channel, part, keys.open_message(channel, part, value))
            for part, value in (("text", sealed_text), ("full_text", sealed_full))
        }
        changed = await session.execute(
            update(InboundEvent).where(col(InboundEvent.id) == event_id).where(text == sealed_text).values(**fresh)
        )
        resealed += int(changed.rowcount)  # type: ignore[attr-defined]
    return Resealed(len(rows), resealed, rows[-1][0] if rows else None)


async def reseal_queued_batch(session: AsyncSession, *, after_id: int, limit: int) -> Resealed:
    """The next `limit` webhook messages waiting in the inbound queue after `after_id` not under the
    current key, sealed under it (one handled meanwhile is gone, and skipped; one no key opens stays)."""
    sealer = address_keys(session).sealer

    def fresh(row: Row[*tuple[Any, ...]]) -> str | None:
        try:
            return sealer.seal(sealer.open(row.payload, binding=SEALED_AS), binding=SEALED_AS)
        except SealedValueUnreadable:  # one the queue set aside as unreadable: left for an operator
            return None

    return await _reseal_column(session, QUEUE.c.payload, fresh, after_id=after_id, limit=limit)


async def messages_by_key(session: AsyncSession) -> dict[str, int]:
    """How many residents' messages (with a text, or waiting in the inbound queue) each key of the
    ring seals; "other": under none."""
    keys = address_keys(session)
    text, payload = col(InboundEvent.text), QUEUE.c.payload
    counts = {}
    for key_id in keys.keyring.key_ids:
        found = select(func.count()).select_from(InboundEvent).where(text.like(f"{key_id}:%"))
        waiting = select(func.count()).select_from(QUEUE).where(payload.like(f"{key_id}:%"))
        counts[key_id] = (await session.execute(found)).scalar_one() + (await session.execute(waiting)).scalar_one()
    total = (await session.execute(select(func.count()).select_from(InboundEvent).where(text != ""))).scalar_one()
    total += (await session.execute(select(func.count()).select_from(QUEUE))).scalar_one()
    counts["other"] = total - sum(counts.values())
    return counts


async def rows_by_key(session: AsyncSession) -> dict[str, int]:
    """How many addresses each key of the ring seals, and under "other" those under none of them
    (they cannot be read: a key is missing from the ring)."""
    keys = address_keys(session)
    counts = {}
    for key_id in keys.keyring.key_ids:
        counts[key_id] = (
            await session.execute(
                select(func.count())
                .select_from(ContactAddress)
                .where(col(ContactAddress.address_sealed).like(f"{key_id}:%"))
            )
        ).scalar_one()
    total = (await session.execute(select(func.count()).select_from(ContactAddress))).scalar_one()
    counts["other"] = total - sum(counts.values())
    return counts
