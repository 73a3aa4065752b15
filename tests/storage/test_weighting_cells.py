"""The grouped reads of weighted results: cells counted with the inclusion probability each answer
stores, and, on SQLite, answers handed over by the results index rather than sorted."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from outreach.bootstrap import Services
from storage.db import read_session
from storage.grouping import prepare_grouping
from storage.weighting_cells import answer_cells, respondent_cells
from tests.outreach.results.weighted_fixture import answered_city


async def test_cells_count_respondents_and_answers_with_their_inclusion_probability(services: Services) -> None:
    record = await answered_city(services)
    assert record.id is not None
    async with read_session(services.sessions) as session:
        await prepare_grouping(session)
        respondents = await respondent_cells(session, record.id, ("district",))
        answers = await answer_cells(session, record.id, ("district",))
    assert sorted((cell.values, cell.inclusion_probability, cell.respondents) for cell in respondents) == [
        (("Mars",), 1.0, 1),
        (("Oliwa",), 1.0, 1),
        (("Osowa",), 0.5, 4),
        (("Osowa",), 1.0, 4),
        (("oliwa ",), 1.0, 1),
    ]
    visits = sorted(
        (cell.values, cell.value, cell.inclusion_probability, cell.answers)
        for cell in answers
        if cell.question_id == "visits"
    )
    assert visits == [
        (("Mars",), "yes", 1.0, 1),
        (("Oliwa",), "yes", 1.0, 1),
        (("Osowa",), "no", 0.5, 2),
        (("Osowa",), "no", 1.0, 4),
        (("Osowa",), "yes", 0.5, 2),
        (("oliwa ",), "yes", 1.0, 1),
    ]


async def test_sqlite_reads_the_answers_grouped_from_the_results_index(services: Services) -> None:
    if services.engine.dialect.name != "sqlite":
        pytest.skip("the results index is SQLite's (PostgreSQL aggregates by hashing)")
    record = await answered_city(services)
    assert record.id is not None
    statements: list[tuple[str, Any]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        statements.append((statement, parameters))

    event.listen(services.engine.sync_engine, "before_cursor_execute", seen)
    try:
        async with read_session(services.sessions) as session:
            await answer_cells(session, record.id, ("district",))
            [(statement, parameters)] = [(s, p) for s, p in statements if "GROUP BY" in s]
            connection = await session.connection()
            plan = (await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", tuple(parameters))).all()
    finally:
        event.remove(services.engine.sync_engine, "before_cursor_execute", seen)
    steps = " / ".join(str(row[-1]) for row in plan)
    assert "COVERING INDEX ix_responses_results" in steps, steps
    assert "TEMP B-TREE" not in steps, steps  # no sort of every answer
