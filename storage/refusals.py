"""Telling data the database refuses (a value too long, a broken constraint) from a database that is
not there: the first is the row's fault and retrying it fails forever, the second passes."""

from __future__ import annotations

from sqlalchemy.exc import DataError, DBAPIError, IntegrityError

# SQLSTATE classes of refused data: 22 data exception, 23 integrity constraint violation.
_REFUSED_CLASSES = ("22", "23")
# The common ones in words. Never the database's own message: it may quote the value (an address).
_IN_WORDS = {
    "22001": "a value is too long",
    "22003": "a number is out of range",
    "22021": "a character the database cannot store",
    "22P05": "a character the database cannot store",
    "23502": "a required value is missing",
    "23503": "a row it refers to is missing",
    "23505": "a value that must be unique is taken",
}


def refused_data(error: BaseException) -> str | None:
    """Why the database refused a row, in words that never quote the row ("SQLSTATE 22001: a value is
    too long"); None for anything else (an outage, a bug), which the caller must not swallow."""
    if not isinstance(error, DBAPIError):
        return None
    sqlstate = getattr(error.orig, "sqlstate", None)  # PostgreSQL (asyncpg)
    if isinstance(sqlstate, str):
        if sqlstate[:2] not in _REFUSED_CLASSES:
            return None
        words = _IN_WORDS.get(sqlstate)
        return f"SQLSTATE {sqlstate}: {words}" if words else f"SQLSTATE {sqlstate}"
    if isinstance(error, DataError | IntegrityError):  # SQLite
        name = getattr(error.orig, "sqlite_errorname", None) or type(error.orig).__name__
        return f"SQLite {name}"
    return None
