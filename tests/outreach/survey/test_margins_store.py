"""Margins saved and loaded: the latest version of a name, a clear error for a name there is not, and
the shipped default added once, never over a city's own."""

from __future__ import annotations

import pytest

from outreach.bootstrap import Services
from outreach.survey.margins import MarginsError, parse_margins
from outreach.survey.margins_store import (
    DEFAULT_MARGINS,
    default_margins,
    ensure_default_margins,
    load_margins,
    save_margins,
)
from storage.margins import MarginsRepository

CITY = "dimension,value,population\ndistrict,Oliwa,100\ndistrict,Osowa,300\ndistrict×sex,Oliwa×K,60\n"
CITY += "district×sex,Oliwa×M,40\ndistrict×sex,Osowa×K,150\ndistrict×sex,Osowa×M,150\n"


async def test_saved_margins_load_back_as_they_were_and_the_latest_version_wins(services: Services) -> None:
    first, _ = parse_margins(CITY, "city", "city.csv")
    second, _ = parse_margins("dimension,value,population\ndistrict,Oliwa,1\n", "city", "city-2027.csv")
    async with services.sessions() as session, session.begin():
        assert await save_margins(session, first, source="city.csv", now=services.clock()) == 1
    async with services.sessions() as session:
        assert await load_margins(session, "city") == first
    async with services.sessions() as session, session.begin():
        assert await save_margins(session, second, source="city-2027.csv", now=services.clock()) == 2
    async with services.sessions() as session:
        assert await load_margins(session, "city") == second


async def test_a_name_there_is_not_is_an_error_naming_those_there_are(services: Services) -> None:
    async with services.sessions() as session:
        with pytest.raises(MarginsError, match="no margins named 'town'; there are: none; import some"):
            await load_margins(session, "town")
    async with services.sessions() as session, session.begin():
        await ensure_default_margins(session, now=services.clock())
        await save_margins(session, parse_margins(CITY, "city", "c.csv")[0], source="c.csv", now=services.clock())
    async with services.sessions() as session:
        with pytest.raises(MarginsError, match=r"no margins named 'town'; there are: city, gdansk-districts$"):
            await load_margins(session, "town")


async def test_the_default_is_saved_once_and_never_over_a_citys_own(services: Services) -> None:
    async with services.sessions() as session, session.begin():
        assert await ensure_default_margins(session, now=services.clock())
        assert not await ensure_default_margins(session, now=services.clock())
    async with services.sessions() as session:
        assert await load_margins(session, DEFAULT_MARGINS) == default_margins()
        stored = await MarginsRepository(session).latest(DEFAULT_MARGINS)
    assert stored is not None and stored.version == 1


async def test_a_citys_own_margins_under_the_default_name_are_kept(services: Services) -> None:
    own, _ = parse_margins(CITY, DEFAULT_MARGINS, "own.csv")
    async with services.sessions() as session, session.begin():
        await save_margins(session, own, source="own.csv", now=services.clock())
        assert not await ensure_default_margins(session, now=services.clock())
    async with services.sessions() as session:
        assert await load_margins(session, DEFAULT_MARGINS) == own
