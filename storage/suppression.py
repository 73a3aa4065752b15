"""Suppressed addresses: an erased resident's address that had opted out, kept only as a keyed hash
(HMAC-SHA256 of "channel:address" with the pseudonym key), so that a later import never asks it
again while the address itself is gone. Without the key a digest names nobody; with it, anyone who
already holds an address can test it: pseudonymous data (docs/PRIVACY.md)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage import dialect
from storage.tables import SuppressedAddress


def address_digest(key: str, channel: str, address: str) -> str:
    """The keyed hash of an address as stored (an email compared in lower case, as the inbound path
    reads a sender)."""
    written = address.lower() if channel == "email" else address
    return hmac.new(key.encode(), f"{channel}:{written}".encode(), hashlib.sha256).hexdigest()


async def suppress(session: AsyncSession, digests: Iterable[str], *, now: datetime) -> None:
    rows = [{"digest": digest, "suppressed_at": now} for digest in sorted(set(digests))]
    if rows:
        statement = dialect.insert(session, SuppressedAddress).values(rows)
        await session.execute(statement.on_conflict_do_nothing(index_elements=["digest"]))


async def suppressed(session: AsyncSession, key: str, addresses: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of these (channel, address) pairs are suppressed. Nothing is hashed while no address is
    suppressed at all (most registers: an import's batch of 2,000 was 2,000 HMACs and an IN list)."""
    if (await session.execute(select(col(SuppressedAddress.digest)).limit(1))).first() is None:
        return set()
    by_digest = {address_digest(key, channel, address): (channel, address) for channel, address in addresses}
    if not by_digest:
        return set()
    found = await session.execute(
        select(col(SuppressedAddress.digest)).where(
            dialect.one_of(session, col(SuppressedAddress.digest), sorted(by_digest))
        )
    )
    return {by_digest[digest] for digest in found.scalars()}
