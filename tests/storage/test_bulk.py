"""Set-based writes: COPY on PostgreSQL, executemany on SQLite; the rows read back as the ORM wrote
them, fresh ids follow the stored ones, and a refused batch raises what storage.failures reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlmodel import col

from outreach.bootstrap import Services
from storage import failures
from storage.bulk import insert_rows, next_ids
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
