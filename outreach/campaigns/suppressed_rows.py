"""Import rows checked against suppressed addresses: an erased resident's address that had opted
out (storage.suppression) is left out of any later row, so an import never asks it again; a row left
with no address is rejected by its line (never by the address)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from storage.residents import AddressInput
from storage.suppression import suppressed

SUPPRESSED_ROW = "every address on this row asked not to be contacted (kept suppressed after an erasure)"


class Row(Protocol):
    @property
    def line(self) -> int: ...

    @property
    def addresses(self) -> list[AddressInput]: ...


R = TypeVar("R", bound=Row)


async def without_suppressed(session: AsyncSession, key: str, rows: Sequence[R]) -> tuple[list[R], list[int]]:
    """The rows (dataclasses) without their suppressed addresses, and the lines of rows that had
    nothing else."""
    found = await suppressed(session, key, ((given.channel, given.address) for row in rows for given in row.addresses))
    if not found:
        return list(rows), []
    kept: list[R] = []
    refused: list[int] = []
    for row in rows:
        addresses = [given for given in row.addresses if (given.channel, given.address) not in found]
        if not addresses:
            refused.append(row.line)
        elif len(addresses) == len(row.addresses):
            kept.append(row)
        else:
            kept.append(dataclasses.replace(row, addresses=addresses))  # type: ignore[type-var]
    return kept, refused
