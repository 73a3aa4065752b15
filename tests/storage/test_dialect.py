"""storage.dialect.one_of: the same rows as an IN list on either database, asked on PostgreSQL with one
array parameter however many values (an import asks about 2,000 addresses per batch)."""

from __future__ import annotations

from sqlalchemy import event, select
from sqlmodel import col

from outreach.bootstrap import Services
from storage.dialect import one_of
from storage.tables import Resident
from tests.conftest import ManualClock


async def test_one_of_finds_exactly_the_values_given_with_one_parameter_on_postgresql(
    services: Services, clock: ManualClock
) -> None:
    async with services.sessions() as session, session.begin():
        now = clock()
        session.add_all(
            Resident(pseudonym=f"p{number:04d}", language="pl", created_at=now, updated_at=now) for number in range(30)
        )
    asked = [f"p{number:04d}" for number in range(0, 30, 3)] + ["nobody", "p9999"]
    parameters: list[int] = []

    def count_parameters(connection: object, cursor: object, statement: str, values: object, *rest: object) -> None:
        if "pseudonym" in statement:  # not the connection's own set-up
            parameters.append(len(values) if isinstance(values, tuple | list | dict) else 0)

    event.listen(services.engine.sync_engine, "before_cursor_execute", count_parameters)
    try:
        async with services.sessions() as session:
            found = await session.execute(
                select(col(Resident.pseudonym)).where(one_of(session, col(Resident.pseudonym), asked))
            )
            nothing = await session.execute(
                select(col(Resident.pseudonym)).where(one_of(session, col(Resident.pseudonym), []))
            )
            assert sorted(found.scalars()) == [f"p{number:04d}" for number in range(0, 30, 3)]
            assert list(nothing.scalars()) == []
    finally:
        event.remove(services.engine.sync_engine, "before_cursor_execute", count_parameters)
    if services.engine.dialect.name == "postgresql":
        assert parameters == [1, 1]  # the array, not one parameter per value
    else:  # SQLite binds each value (its IN list is short enough: at most a batch)
        assert parameters[0] == len(asked)
