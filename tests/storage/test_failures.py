"""What a database error means (storage.failures), told from real errors of real databases: values the
store refuses are bad data, named without the value; a database that is away is an outage; two writers
colliding are tried again a bounded number of times."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from outreach.bootstrap import Services
from storage.db import create_engine, is_sqlite
from storage.failures import STORE_ERRORS, StoreFailure, classify, describe, reason, retrying_collisions, sqlstate
from storage.tables import ApiToken
from tests.world import store_outage

NOW = datetime(2027, 3, 2, 10, 0, tzinfo=UTC)
SECRET = "ola@example.org"  # stands for an address or an answer: never in a reason nor a log line


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    made = create_engine(database_url)
    yield made
    await made.dispose()


async def refusal(engine: AsyncEngine, **changes: Any) -> BaseException:
    """The error the store raises for a token row with `changes` (inserted twice when `twice`)."""
    twice = changes.pop("twice", False)
    row = {"token_hash": "a" * 64, "prefix": "otr_a", "label": "x", "scopes": [], "created_at": NOW} | changes
    try:
        async with engine.begin() as connection:
            await connection.execute(insert(ApiToken).values(row))
            if twice:
                await connection.execute(insert(ApiToken).values(row))
    except STORE_ERRORS as error:
        return error
    raise AssertionError("the store took it")


@pytest.mark.parametrize(
    ("changes", "failure", "words"),
    [
        ({"label": None}, StoreFailure.BAD_DATA, "a required value is missing"),
        ({"twice": True}, StoreFailure.CONFLICT, "a value that must be unique is already stored"),
    ],
)
async def test_integrity_errors_are_bad_data_on_both_stores(
    engine: AsyncEngine, changes: dict[str, Any], failure: StoreFailure, words: str
) -> None:
    error = await refusal(engine, **changes)
    assert classify(error) is failure
    assert reason(error).startswith(words)
    assert sqlstate(error) in ("23502", "23505")


@pytest.mark.parametrize(
    ("label", "words", "state"),
    [
        ("x" * 119 + SECRET, "a text is longer than its column holds", "22001"),
        (SECRET + "\x00", "a text holds a character the store refuses (the NUL character)", "22021"),
        (SECRET + "\ud800", "a text holds a character the store cannot keep", "22000"),  # asyncpg cannot encode it
    ],
)
async def test_values_postgresql_refuses_are_bad_data_named_without_the_value(
    database_url: str, engine: AsyncEngine, label: str, words: str, state: str
) -> None:
    if is_sqlite(database_url):
        pytest.skip("SQLite keeps these (no column widths, NUL kept); a surrogate fails in its driver, below")
    error = await refusal(engine, label=label)
    assert (classify(error), sqlstate(error), reason(error)) == (
        StoreFailure.BAD_DATA,
        state,
        f"{words} [SQLSTATE {state}]",
    )
    assert SECRET not in describe(error) and state in describe(error)


async def test_a_text_sqlites_driver_cannot_encode_is_bad_data(database_url: str, engine: AsyncEngine) -> None:
    if not is_sqlite(database_url):
        pytest.skip("PostgreSQL: above")
    try:
        async with engine.begin() as connection:
            await connection.execute(text("SELECT :value"), {"value": SECRET + "\ud800"})
    except UnicodeEncodeError as error:
        assert classify(error) is StoreFailure.BAD_DATA
        assert reason(error) == "a text holds a character the store cannot keep"
    else:
        raise AssertionError("the driver encoded a lone surrogate")


async def test_a_database_that_is_away_is_an_outage(services: Services) -> None:
    async with store_outage(services):
        try:
            async with services.sessions() as session:
                await session.execute(select(ApiToken))
        except STORE_ERRORS as error:
            assert classify(error) is StoreFailure.OUTAGE
        else:
            raise AssertionError("the store answered during an outage")


async def test_no_free_connection_in_time_is_an_outage(database_url: str) -> None:
    """A burst beyond the pool (issue 18's 300 req/s on PostgreSQL) waits for a connection; past the
    pool's timeout that is the store not answering in time: an outage (a webhook spools it and says
    200), not an error of ours (it was a 500: SQLAlchemy's pool TimeoutError is not the builtin one)."""
    engine = create_engine(database_url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    try:
        async with engine.connect() as busy:
            await busy.execute(text("SELECT 1"))
            try:
                async with engine.connect() as second:
                    await second.execute(text("SELECT 1"))
            except STORE_ERRORS as error:
                assert classify(error) is StoreFailure.OUTAGE
            else:
                raise AssertionError("a second connection came from a pool of one")
    finally:
        await engine.dispose()


async def test_a_refused_connection_is_an_outage() -> None:
    engine = create_engine("postgresql+asyncpg://postgres@127.0.0.1:1/none", connect_args={"timeout": 2})
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except STORE_ERRORS as error:
        assert classify(error) is StoreFailure.OUTAGE
    else:
        raise AssertionError("port 1 answered")
    finally:
        await engine.dispose()


async def test_a_serialization_failure_is_tried_again_then_an_outage(database_url: str, engine: AsyncEngine) -> None:
    """A REPEATABLE READ transaction updates a row another committed since it read: 40001. Retried, it
    succeeds once nobody interferes; always interfered with, it gives up after three attempts."""
    if is_sqlite(database_url):
        pytest.skip("SQLite takes the write lock at BEGIN: writers never collide")
    async with engine.begin() as connection:
        await connection.execute(insert(ApiToken).values(token_hash="a" * 64, label="x", scopes=[], created_at=NOW))
    attempts = 0

    async def relabel(interfered: int) -> str:
        nonlocal attempts
        attempts += 1
        async with engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="REPEATABLE READ")
            async with connection.begin():
                await connection.execute(select(col(ApiToken.label)))  # the snapshot is taken here
                if attempts <= interfered:
                    async with engine.begin() as other:
                        await other.execute(update(ApiToken).values(label=f"other {attempts}"))
                await connection.execute(update(ApiToken).values(label="mine"))
        return "mine"

    assert await retrying_collisions(lambda: relabel(interfered=1)) == "mine"
    assert attempts == 2

    attempts = 0
    with pytest.raises(DBAPIError) as collided:
        await retrying_collisions(lambda: relabel(interfered=99))
    assert attempts == 3
    assert (sqlstate(collided.value), classify(collided.value)) == ("40001", StoreFailure.OUTAGE)


async def test_a_pooled_connection_a_restart_closed_costs_one_attempt_not_the_work(
    database_url: str, engine: AsyncEngine
) -> None:
    """The pools do not ping before each checkout (a round trip per transaction): a connection the
    server closed meanwhile (as a restart does) fails its first statement, and the work runs once more,
    at once, on a new connection."""
    if is_sqlite(database_url):
        pytest.skip("a SQLite connection is a file, not a server's session")
    async with engine.connect() as connection:  # pooled for the next checkout
        own_pid = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    killer = create_engine(database_url)
    try:
        async with killer.connect() as connection:
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": own_pid})
    finally:
        await killer.dispose()
    attempts = 0

    async def add_token() -> int:
        nonlocal attempts
        attempts += 1
        async with engine.begin() as connection:
            await connection.execute(insert(ApiToken).values(token_hash="b" * 64, label="x", scopes=[], created_at=NOW))
            return int((await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one())

    assert await retrying_collisions(add_token) != own_pid
    assert attempts == 2  # the closed connection's, then a new one's
    async with engine.connect() as connection:
        assert (await connection.execute(select(col(ApiToken.label)))).scalars().all() == ["x"]
