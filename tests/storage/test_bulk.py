"""Set-based writes: COPY on PostgreSQL, executemany on SQLite; the rows read back as the ORM wrote
them, fresh ids follow the stored ones, and a refused batch raises what storage.failures reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from outreach.bootstrap import Services
from storage import dialect, failures
from storage.bulk import PlannerStatistics, insert_rows, next_ids
from storage.tables import Resident
from tests.factories import add_resident

WARSAW_NOON = datetime(2026, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=1)))


def resident_row(resident_id: int, pseudonym: str) -> dict[str, object]:
    return {
        "id": resident_id,
        "pseudonym": pseudonym,
        "language": "uk",
        "attributes": {"district": "Śródmieście", "age_band": "30-44"},
        "created_at": WARSAW_NOON,
        "updated_at": WARSAW_NOON,
    }


async def test_rows_written_set_based_read_back_as_given_after_the_stored_ones(services: Services) -> None:
    stored = await add_resident(services, phone="+48600100200")
    async with services.sessions() as session, session.begin():
        ids = await next_ids(session, Resident.__table__, 2)  # type: ignore[attr-defined]
        await insert_rows(
            session,
            Resident.__table__,  # type: ignore[attr-defined]
            [resident_row(ids[0], "rbulk1"), resident_row(ids[1], "rbulk2")],
        )
    assert stored.id is not None and ids[0] > stored.id and ids[1] == ids[0] + 1
    async with services.sessions() as session:
        residents = list((await session.execute(select(Resident).order_by(col(Resident.id)))).scalars())
    assert [(r.id, r.pseudonym) for r in residents[1:]] == [(ids[0], "rbulk1"), (ids[1], "rbulk2")]
    assert residents[1].attributes == {"district": "Śródmieście", "age_band": "30-44"}
    assert residents[1].created_at == datetime(2026, 3, 1, 11, 0, tzinfo=UTC)


async def test_a_refused_batch_raises_the_stores_refusal_and_writes_nothing(services: Services) -> None:
    stored = await add_resident(services, phone="+48600100200")
    with pytest.raises(DBAPIError) as refused:
        async with services.sessions() as session, session.begin():
            ids = await next_ids(session, Resident.__table__, 1)  # type: ignore[attr-defined]
            # The second row takes the stored resident's pseudonym: a unique key both databases keep.
            await insert_rows(
                session,
                Resident.__table__,  # type: ignore[attr-defined]
                [resident_row(ids[0], "rbulk1"), resident_row(ids[0] + 1, stored.pseudonym)],
            )
    assert failures.classify(refused.value) is failures.StoreFailure.CONFLICT
    assert failures.sqlstate(refused.value) == "23505"
    async with services.sessions() as session:
        assert len(list((await session.execute(select(Resident))).scalars())) == 1


async def planner_rows(session: AsyncSession, table: str) -> int:
    """What the planner knows of `table`: PostgreSQL's row estimate, SQLite's statistics rows."""
    if dialect.dialect_name(session) == "postgresql":
        result = await session.execute(text("SELECT reltuples FROM pg_class WHERE relname = :table"), {"table": table})
        return max(0, int(result.scalar_one()))
    exists = await session.execute(text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'"))
    if not exists.scalar_one():
        return 0
    return int((await session.execute(text(f"SELECT count(*) FROM sqlite_stat1 WHERE tbl = '{table}'"))).scalar_one())


async def test_a_growing_load_brings_the_planners_statistics_up_to_date(services: Services) -> None:
    """Failed before on SQLite (no statistics, so fatigue's asks read every queued message per page)
    and made PostgreSQL plan half a million rows on the first batch's counts."""
    statistics = PlannerStatistics("residents", first=4)
    async with services.sessions() as session, session.begin():
        if dialect.dialect_name(session) == "postgresql":
            # As a new database has it: the tests' emptying (DELETE) keeps the planner's last estimate.
            await session.execute(text("TRUNCATE residents CASCADE"))
        ids = await next_ids(session, Resident.__table__, 6)  # type: ignore[attr-defined]
        rows = [resident_row(resident_id, f"rbulk{resident_id}") for resident_id in ids]
        await insert_rows(session, Resident.__table__, rows[:3])  # type: ignore[attr-defined]
        await statistics.wrote(session, 3)
        assert await planner_rows(session, "residents") == 0  # not doubled yet: nothing spent on it
        await insert_rows(session, Resident.__table__, rows[3:])  # type: ignore[attr-defined]
        await statistics.wrote(session, 3)
        assert await planner_rows(session, "residents") > 0


async def test_moments_are_stored_as_text_the_orm_writes_on_sqlite(services: Services) -> None:
    """SQLite compares moments as text: a bulk row's must be the ORM's, to the microsecond."""
    orm = await add_resident(services, phone="+48600100200")
    async with services.sessions() as session, session.begin():
        if dialect.dialect_name(session) == "postgresql":
            return
        ids = await next_ids(session, Resident.__table__, 2)  # type: ignore[attr-defined]
        rows = [resident_row(ids[0], "rbulk1"), resident_row(ids[1], "rbulk2")]
        rows[1]["created_at"] = orm.created_at
        await insert_rows(session, Resident.__table__, rows)  # type: ignore[attr-defined]
    async with services.sessions() as session:
        stored = await session.execute(text("SELECT id, created_at, typeof(created_at) FROM residents ORDER BY id"))
        texts = {resident_id: (written, kind) for resident_id, written, kind in stored.all()}
    assert texts[ids[0]] == ("2026-03-01 11:00:00.000000", "text")  # was "…11:00:00", sorting first
    assert texts[ids[1]] == texts[orm.id]
