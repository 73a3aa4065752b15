"""What a database error means for the work that met it.

- OUTAGE: the store is away (connection refused or closed, timeouts, the driver's operational and
  interface errors, a database refusing connections, our own SQL a schema does not match yet). The
  same work succeeds later: a webhook answers 503 so the provider retries, the API says retry later.
- BAD_DATA: the store refused a value (SQLSTATE classes 22 and 23, the driver's data and integrity
  errors, a text a driver cannot encode): the same input fails forever, so it is answered and reported,
  never retried. `CONFLICT` is the bad data that clashes with a stored row (a unique key).
- A serialization failure or deadlock (SQLSTATE 40001, 40P01) is two writers colliding: the
  transaction is run again a bounded number of times (`retrying_collisions`), then it is an outage.

Logs and reasons name the error class and SQLSTATE and the schema's names (column, constraint), never
the driver's message: PostgreSQL quotes the refused value in some ("invalid input syntax for type
integer: ..."), and the value may be an address or an answer.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import TypeVar

from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout

log = logging.getLogger(__name__)

# What the store raises when it cannot do the work: its driver's errors wrapped by SQLAlchemy, the
# network's (a connection refused before SQLAlchemy saw one arrives as OSError), and no free pooled
# connection in time (SQLAlchemy's own TimeoutError, not the builtin: a burst beyond the pool).
STORE_ERRORS = (DBAPIError, OSError, TimeoutError, PoolTimeout)

COLLISION_STATES = frozenset({"40001", "40P01"})  # serialization_failure, deadlock_detected
COLLISION_ATTEMPTS = 3
COLLISION_PAUSE_SECONDS = 0.05  # doubled after each collision

T = TypeVar("T")


class StoreFailure(StrEnum):
    OUTAGE = "outage"
    BAD_DATA = "bad_data"
    CONFLICT = "conflict"  # bad data that clashes with a stored row: a duplicate of a unique key


# The refusals said in plain words, by SQLSTATE: what kind of value, never the value.
_REASONS = {
    "22001": "a text is longer than its column holds",
    "22003": "a number is out of the range its column holds",
    "22007": "a date or time is not valid",
    "22008": "a date or time is out of the range the store keeps",
    "22021": "a text holds a character the store refuses (the NUL character)",
    "22P02": "a value is not in the form its column takes",
    "22P05": "a text holds a character the store cannot keep",
    "23502": "a required value is missing",
    "23503": "a value refers to a row that does not exist",
    "23505": "a value that must be unique is already stored",
    "23514": "a value breaks a rule of the store",
}
_SQLITE_CONSTRAINT = re.compile(r"^(UNIQUE|NOT NULL|FOREIGN KEY|CHECK) constraint failed(?:: (\w+(?:\.\w+)?))?")
_SQLITE_STATES = {"UNIQUE": "23505", "NOT NULL": "23502", "FOREIGN KEY": "23503", "CHECK": "23514"}


def _chain(error: BaseException) -> list[BaseException]:
    """The error, the driver's error it wraps, and what that was raised from (cycles cut)."""
    found: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and all(current is not seen for seen in found):
        found.append(current)
        wrapped = getattr(current, "orig", None) if isinstance(current, DBAPIError) else None
        current = wrapped if isinstance(wrapped, BaseException) else current.__cause__ or current.__context__
    return found


def sqlstate(error: BaseException) -> str | None:
    """The SQLSTATE the server gave (PostgreSQL), or the one SQLite's constraint message means."""
    for link in _chain(error):
        state = getattr(link, "sqlstate", None) or getattr(link, "pgcode", None)
        if isinstance(state, str) and state:
            return state
    constraint = _sqlite_constraint(error)
    return _SQLITE_STATES[constraint[0]] if constraint else None


def _sqlite_constraint(error: BaseException) -> tuple[str, str | None] | None:
    """SQLite's integrity message names the rule and the column (never the value): its two parts."""
    if not isinstance(error, IntegrityError):
        return None
    found = _SQLITE_CONSTRAINT.match(str(error.orig))
    return (found.group(1), found.group(2)) if found else None


def classify(error: BaseException) -> StoreFailure:
    """What `error` (one of STORE_ERRORS, or an encoding error a driver let through) means."""
    state = sqlstate(error) or ""
    if state == "23505":
        return StoreFailure.CONFLICT
    if isinstance(error, DataError | IntegrityError) or state[:2] in ("22", "23"):
        return StoreFailure.BAD_DATA
    # A value the driver could not encode (a lone surrogate): asyncpg says so in a client-side
    # DataError (a ValueError), SQLite's driver with a bare UnicodeEncodeError.
    if any(isinstance(link, UnicodeError) for link in _chain(error)):
        return StoreFailure.BAD_DATA
    return StoreFailure.OUTAGE


def describe(error: BaseException) -> str:
    """For logs: the error's class, the driver's class and the SQLSTATE; never the message."""
    chain = _chain(error)
    names = [type(link).__name__ for link in chain[:3]]
    state = sqlstate(error)
    return "/".join(dict.fromkeys(names)) + (f" SQLSTATE {state}" if state else "")


def reason(error: BaseException) -> str:
    """Why the store refused a value, in plain words for the caller and the audit record: the kind of
    refusal and the schema's names (column, constraint, table) when the driver gives them."""
    state = sqlstate(error)
    words = _REASONS.get(state or "", "the store refused a value")
    if any(isinstance(link, UnicodeError) for link in _chain(error)):  # a driver could not encode it
        words = "a text holds a character the store cannot keep"
    names = _schema_names(error)
    where = f" ({', '.join(names)})" if names else ""
    return f"{words}{where}" + (f" [SQLSTATE {state}]" if state else "")


def _schema_names(error: BaseException) -> list[str]:
    constraint = _sqlite_constraint(error)
    if constraint is not None:  # "table.column" (UNIQUE may name several, comma-separated)
        if not constraint[1]:
            return []
        table, _, column = constraint[1].partition(".")
        return [f"column {column}", f"table {table}"] if column else [f"table {table}"]
    for link in _chain(error):
        names = [
            f"{label} {value}"
            for label, attribute in (
                ("column", "column_name"),
                ("constraint", "constraint_name"),
                ("table", "table_name"),
            )
            if isinstance(value := getattr(link, attribute, None), str) and value
        ]
        if names:
            return names
    return []


async def retrying_collisions(work: Callable[[], Awaitable[T]], *, attempts: int = COLLISION_ATTEMPTS) -> T:
    """Run `work` (one whole transaction) again when it lost a serialization or deadlock collision, at
    most `attempts` times in all, with a short doubling pause; the last collision is raised. Once more,
    at once, when it met a pooled connection the server had closed (a restart): SQLAlchemy has dropped
    every connection as old as that one, so the next attempt runs on a new one (the pools do not ping
    before each checkout, storage.db); a store still away fails that attempt as an outage."""
    pause = COLLISION_PAUSE_SECONDS
    collisions = 0
    stale_retried = False
    while True:
        try:
            return await work()
        except DBAPIError as error:
            if error.connection_invalidated and not stale_retried:
                stale_retried = True
                log.info("a pooled connection was gone (%s); once more on a new one", describe(error))
                continue
            collisions += 1
            if sqlstate(error) not in COLLISION_STATES or collisions == attempts:
                raise
            log.info("transaction collided (%s); attempt %d of %d", describe(error), collisions + 1, attempts)
            await asyncio.sleep(pause)
            pause *= 2
