"""Population margins as stored: named sets, each import a new version, of plain cells (dimension,
value, label, population). What the cells mean is outreach.survey.margins's business."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.tables import MarginCell, MarginSet, Resident


@dataclass(frozen=True)
class StoredCell:
    dimension: str
    value: str
    label: str
    population: float


@dataclass(frozen=True)
class StoredMargins:
    name: str
    version: int
    source: str
    created_at: datetime
    cells: tuple[StoredCell, ...]


@dataclass(frozen=True)
class MarginsSummary:
    name: str
    version: int  # the latest
    source: str  # the latest version's
    created_at: datetime  # the latest version's
    cells: int  # in the latest version


class MarginsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def save(self, name: str, source: str, cells: Sequence[StoredCell], *, now: datetime) -> int:
        """Keep `cells` as the next version of `name` (1 for a new name); returns that version."""
        latest = await self._session.scalar(select(func.max(col(MarginSet.version))).where(col(MarginSet.name) == name))
        margin_set = MarginSet(name=name, version=(latest or 0) + 1, source=source, created_at=now)
        self._session.add(margin_set)
        await self._session.flush()
        assert margin_set.id is not None
        self._session.add_all(
            MarginCell(
                margin_set_id=margin_set.id,
                dimension=cell.dimension,
                value=cell.value,
                label=cell.label,
                population=cell.population,
            )
            for cell in cells
        )
        await self._session.flush()
        return margin_set.version

    async def latest(self, name: str) -> StoredMargins | None:
        """The latest version of `name`; None when there are no margins of that name."""
        margin_set = await self._session.scalar(
            select(MarginSet).where(col(MarginSet.name) == name).order_by(col(MarginSet.version).desc()).limit(1)
        )
        if margin_set is None:
            return None
        return await self._stored(margin_set)

    async def version(self, name: str, version: int) -> StoredMargins | None:
        margin_set = await self._session.scalar(
            select(MarginSet).where(col(MarginSet.name) == name).where(col(MarginSet.version) == version)
        )
        return None if margin_set is None else await self._stored(margin_set)

    async def summaries(self) -> list[MarginsSummary]:
        """The latest version of every name, by name."""
        latest = (
            select(col(MarginSet.name), func.max(col(MarginSet.version)).label("version"))
            .group_by(col(MarginSet.name))
            .subquery()
        )
        cells = (
            select(col(MarginCell.margin_set_id), func.count().label("cells"))
            .group_by(col(MarginCell.margin_set_id))
            .subquery()
        )
        rows = await self._session.execute(
            select(MarginSet, func.coalesce(cells.c.cells, 0))
            .join(latest, (col(MarginSet.name) == latest.c.name) & (col(MarginSet.version) == latest.c.version))
            .outerjoin(cells, cells.c.margin_set_id == col(MarginSet.id))
            .order_by(col(MarginSet.name))
        )
        return [
            MarginsSummary(margin_set.name, margin_set.version, margin_set.source, margin_set.created_at, count)
            for margin_set, count in rows.all()
        ]

    async def names(self) -> list[str]:
        rows = await self._session.scalars(select(col(MarginSet.name)).distinct().order_by(col(MarginSet.name)))
        return list(rows)

    async def _stored(self, margin_set: MarginSet) -> StoredMargins:
        cells = await self._session.scalars(
            select(MarginCell).where(col(MarginCell.margin_set_id) == margin_set.id).order_by(col(MarginCell.id))
        )
        return StoredMargins(
            name=margin_set.name,
            version=margin_set.version,
            source=margin_set.source,
            created_at=margin_set.created_at,
            cells=tuple(StoredCell(cell.dimension, cell.value, cell.label, cell.population) for cell in cells),
        )


async def resident_value_counts(session: AsyncSession, attribute: str) -> dict[str | None, int]:
    """How many residents have each value of an attribute, as written (None: without it), to match
    against margins."""
    value = col(Resident.attributes)[attribute].as_string()
    rows = await session.execute(
        select(value, func.count())
        .where(col(Resident.erased_at).is_(None))
        .group_by(value)  # erasures' stand-ins aside
    )
    return {written: count for written, count in rows.all()}
