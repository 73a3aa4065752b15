"""Stored margins: each save under a name is its next version; the latest is read back whole."""

from __future__ import annotations

from outreach.bootstrap import Services
from storage.margins import MarginsRepository, StoredCell, resident_value_counts
from tests.conftest import ManualClock
from tests.factories import add_resident

FIRST = (StoredCell("district", "oliwa", "Oliwa", 22431.0), StoredCell("district", "osowa", "Osowa", 8053.0))
SECOND = (
    StoredCell("sex", "f", "F", 52.7),
    StoredCell("sex", "m", "M", 47.3),
    StoredCell("sex×age", "f×65+", "F×65+", 1),
)


async def _save(services: Services, name: str, cells: tuple[StoredCell, ...], source: str = "m.csv") -> int:
    async with services.sessions() as session, session.begin():
        return await MarginsRepository(session).save(name, source, cells, now=services.clock())


async def test_each_save_is_the_next_version_and_the_latest_is_read(services: Services, clock: ManualClock) -> None:
    assert await _save(services, "city", FIRST, "first.csv") == 1
    clock.advance(hours=1)
    assert await _save(services, "city", SECOND, "second.csv") == 2
    assert await _save(services, "other", FIRST) == 1
    async with services.sessions() as session:
        repository = MarginsRepository(session)
        latest = await repository.latest("city")
        first = await repository.version("city", 1)
        assert await repository.latest("nothing") is None
        assert await repository.version("city", 3) is None
        assert await repository.names() == ["city", "other"]
        summaries = await repository.summaries()
    assert latest is not None and first is not None
    assert (latest.version, latest.source, latest.cells) == (2, "second.csv", SECOND)
    assert latest.created_at == clock()
    assert (first.version, first.source, first.cells) == (1, "first.csv", FIRST)
    assert [(s.name, s.version, s.source, s.cells) for s in summaries] == [
        ("city", 2, "second.csv", 3),
        ("other", 1, "m.csv", 2),
    ]


async def test_nothing_stored_lists_nothing(services: Services) -> None:
    async with services.sessions() as session:
        assert await MarginsRepository(session).summaries() == []
        assert await MarginsRepository(session).names() == []


async def test_residents_are_counted_per_value_of_an_attribute_as_written(services: Services) -> None:
    for number, district in enumerate(["Oliwa", "Oliwa", "oliwa", "Żabianka", None]):
        attributes = {"district": district} if district else {}
        await add_resident(services, phone=f"+4860010020{number}", **attributes)
    async with services.sessions() as session:
        assert await resident_value_counts(session, "district") == {"Oliwa": 2, "oliwa": 1, "Żabianka": 1, None: 1}
        assert await resident_value_counts(session, "sex") == {None: 5}
