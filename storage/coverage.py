"""The register counted for coverage (outreach.participation.coverage): residents per value of an
attribute, those reachable and consented on each channel, and what each recruitment source brought.
Counts only; no resident row leaves this module."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.tables import ContactAddress, Resident

RECRUITED_VIA = "recruited_via"  # the attributes outreach.campaigns.recruitment names
RECRUITMENT_SOURCE = "recruitment_source"


def _reachable() -> ColumnElement[bool]:
    """An address the service may write to: consented, not opted out, not dead (as a launch asks)."""
    return and_(
        col(ContactAddress.resident_id) == col(Resident.id),
        col(ContactAddress.consent_at).is_not(None),
        col(ContactAddress.opted_out_at).is_(None),
        col(ContactAddress.unreachable_at).is_(None),
    )


def _value(dimension: str) -> Any:
    if dimension == "language":
        return col(Resident.language)
    return col(Resident.attributes)[dimension].as_string()


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _in_register() -> ColumnElement[bool]:
    """Residents, not the anonymous stand-ins an erasure leaves for its answers (storage.erasure)."""
    return col(Resident.erased_at).is_(None)


class CoverageCounts:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def totals(self) -> tuple[int, int, dict[str, int]]:
        """Residents, residents reachable on any channel, and reachable per channel."""
        residents = (
            await self._session.execute(select(func.count()).select_from(Resident).where(_in_register()))
        ).scalar_one()
        reached = (
            select(func.count(func.distinct(col(Resident.id)))).select_from(Resident).join(ContactAddress, _reachable())
        )
        reachable = (await self._session.execute(reached)).scalar_one()
        per_channel = (
            select(col(ContactAddress.channel), func.count(func.distinct(col(Resident.id))))
            .select_from(Resident)
            .join(ContactAddress, _reachable())
            .group_by(col(ContactAddress.channel))
        )
        channels = {channel: int(n) for channel, n in (await self._session.execute(per_channel)).all()}
        return int(residents), int(reachable), channels

    async def residents_by(self, dimension: str) -> dict[str | None, int]:
        value = _value(dimension)
        rows = await self._session.execute(
            select(value, func.count()).select_from(Resident).where(_in_register()).group_by(value)
        )
        return _sum_rows((_text(w), n) for w, n in rows.all())

    async def reachable_by(self, dimension: str) -> dict[str | None, int]:
        value = _value(dimension)
        statement = (
            select(value, func.count(func.distinct(col(Resident.id))))
            .select_from(Resident)
            .join(ContactAddress, _reachable())
            .group_by(value)
        )
        return _sum_rows((_text(w), n) for w, n in (await self._session.execute(statement)).all())

    async def channels_by(self, dimension: str) -> dict[tuple[str | None, str], int]:
        value = _value(dimension)
        statement = (
            select(value, col(ContactAddress.channel), func.count(func.distinct(col(Resident.id))))
            .select_from(Resident)
            .join(ContactAddress, _reachable())
            .group_by(value, col(ContactAddress.channel))
        )
        counts: dict[tuple[str | None, str], int] = {}
        for written, channel, n in (await self._session.execute(statement)).all():
            key = (_text(written), str(channel))
            counts[key] = counts.get(key, 0) + int(n)
        return counts

    async def sources(self) -> dict[tuple[str | None, str | None], tuple[int, int]]:
        """Per (recruitment source, recruited via): residents, and those reachable on any channel."""
        source, via = _value(RECRUITMENT_SOURCE), _value(RECRUITED_VIA)
        everyone = select(source, via, func.count()).select_from(Resident).where(_in_register()).group_by(source, via)
        reached = (
            select(source, via, func.count(func.distinct(col(Resident.id))))
            .select_from(Resident)
            .join(ContactAddress, _reachable())
            .group_by(source, via)
        )
        reachable = {(_text(s), _text(v)): int(n) for s, v, n in (await self._session.execute(reached)).all()}
        return {
            (_text(s), _text(v)): (int(n), reachable.get((_text(s), _text(v)), 0))
            for s, v, n in (await self._session.execute(everyone)).all()
        }

    async def sources_by(self, dimension: str) -> dict[tuple[tuple[str | None, str | None], str | None], int]:
        """Residents per (recruitment source, recruited via) and value of `dimension`."""
        source, via, value = _value(RECRUITMENT_SOURCE), _value(RECRUITED_VIA), _value(dimension)
        statement = (
            select(source, via, value, func.count())
            .select_from(Resident)
            .where(_in_register())
            .group_by(source, via, value)
        )
        counts: dict[tuple[tuple[str | None, str | None], str | None], int] = {}
        for s, v, written, n in (await self._session.execute(statement)).all():
            key = ((_text(s), _text(v)), _text(written))
            counts[key] = counts.get(key, 0) + int(n)
        return counts


def _sum_rows(rows: Iterable[tuple[str | None, Any]]) -> dict[str | None, int]:
    counts: dict[str | None, int] = {}
    for written, n in rows:
        counts[written] = counts.get(written, 0) + int(n)
    return counts
