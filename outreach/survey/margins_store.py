"""Margins in the database: save a parsed set as its name's next version, load a name's latest, and
the default `gdansk-districts` margins that ship with outreach (outreach/data)."""

from __future__ import annotations

from datetime import datetime
from importlib import resources

from sqlalchemy.ext.asyncio import AsyncSession

from outreach.survey.margins import DEFAULT_MARGINS as DEFAULT_MARGINS  # re-exported: where it always was
from outreach.survey.margins import Margins, MarginsError, cells_of, margins_from_cells, parse_margins
from outreach.survey.margins_problems import said
from storage.margins import MarginsRepository, StoredCell

DEFAULT_FILE = "gdansk_districts_margins.csv"  # in outreach/data: shared/data/gdansk_districts.csv, converted


def default_margins() -> Margins:
    """The 35 districts of Gdańsk and their population (490,301 residents), as shipped."""
    text = (resources.files("outreach") / "data" / DEFAULT_FILE).read_text(encoding="utf-8")
    margins, _ = parse_margins(text, DEFAULT_MARGINS, DEFAULT_FILE)
    return margins


async def save_margins(session: AsyncSession, margins: Margins, *, source: str, now: datetime) -> int:
    """Keep `margins` as the next version of its name; returns the version."""
    cells = [StoredCell(*cell) for cell in cells_of(margins)]
    return await MarginsRepository(session).save(margins.name, source, cells, now=now)


async def load_margins(session: AsyncSession, name: str) -> Margins:
    """The latest version of the margins called `name`; MarginsError names the ones there are."""
    stored = await MarginsRepository(session).latest(name)
    if stored is None:
        known = ", ".join(await MarginsRepository(session).names())
        params = {"name": repr(name), "known": known}
        raise MarginsError.single(said("margins_unknown_name" if known else "margins_unknown_name_none", params))
    return margins_from_cells(
        stored.name, ((cell.dimension, cell.value, cell.label, cell.population) for cell in stored.cells)
    )


async def ensure_default_margins(session: AsyncSession, *, now: datetime) -> bool:
    """Save the shipped default margins unless margins of that name exist (a city's own, or the
    default saved before); True when they were saved now."""
    if await MarginsRepository(session).latest(DEFAULT_MARGINS) is not None:
        return False
    await save_margins(session, default_margins(), source=DEFAULT_FILE, now=now)
    return True
