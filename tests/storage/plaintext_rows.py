"""Rows as revisions before 0029 stored them: a resident and their address in the clear, written with
SQL so that a migration test can build a database at an old revision and upgrade it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection


async def insert_plaintext_residents(
    connection: AsyncConnection, addresses: Mapping[int, tuple[str, str]], moment: datetime | str
) -> None:
    """One resident per id, with the (channel, address) given; the contact row takes the same id."""
    for contact_id, (channel, address) in addresses.items():
        await connection.execute(
            text(
                "INSERT INTO residents (id, pseudonym, language, attributes, created_at, updated_at)"
                " VALUES (:id, :pseudonym, 'pl', '{}', :at, :at)"
            ),
            {"id": contact_id, "pseudonym": f"p{contact_id}", "at": moment},
        )
        await connection.execute(
            text(
                "INSERT INTO contact_addresses (id, resident_id, channel, address, created_at)"
                " VALUES (:id, :id, :channel, :address, :at)"
            ),
            {"id": contact_id, "channel": channel, "address": address, "at": moment},
        )
