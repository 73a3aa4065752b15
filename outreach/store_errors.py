"""What a background loop (the dispatcher's claims, its reconciliation) does when the store raises.

An outage heals by itself: the loop logs a quiet warning and tries again after its usual pause; while
it lasts, a reminder a minute, and one line when the store answers again (a loop retrying every 50 ms
logged 19 warnings a second). Any other store error is a defect (our SQL does not fit the schema: a
migration half applied, a table renamed) or bad data (storage.failures.classify): the same work fails
the same way every time, so it is logged at ERROR once per distinct error with a hint, counted, and
retried after a longer pause.

Logs name the error's classes, SQLSTATE and, for a defect, the driver's first line (it names tables
and columns, never values); never the statement's parameters, which may hold an address or an answer.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable

from sqlalchemy.exc import DBAPIError, ProgrammingError

from outreach.telemetry import NO_TELEMETRY, Telemetry
from storage.failures import StoreFailure, classify, describe, reason, sqlstate

log = logging.getLogger(__name__)

OUTAGE_REMINDER_SECONDS = 60.0  # while an outage lasts, one "still unavailable" line a minute per loop
DEFECT_PAUSE_SECONDS = 60.0  # a defect does not heal in a second; a fixed schema is picked up within a minute
DEFECT = "defect"  # our SQL does not fit the schema (PostgreSQL's ProgrammingError, SQLSTATE class 42)
# SQLite says the same with an OperationalError whose message names the missing table or column.
_SQLITE_SCHEMA_MISMATCH = re.compile(r"^(no such (table|column)|table \S+ has no column named|.*syntax error)")
_HINTS = {
    DEFECT: "the SQL does not fit the database's schema (a migration not applied, or half applied?):"
    " check `outreach db upgrade` and the deploy; retrying will not heal it",
    StoreFailure.BAD_DATA: "a stored value breaks a rule of the schema: find the row and repair it",
    StoreFailure.CONFLICT: "a stored value clashes with another row's unique key: find the rows and repair them",
}


def kind_of(error: BaseException) -> str:
    """The kind of `error`: outage, bad_data, conflict (storage.failures) or defect (our SQL meets a
    schema it does not fit, which storage.failures counts as an outage: a webhook may be retried later,
    after a deploy; a loop that says "store unavailable" every second for it hides the defect)."""
    failure = classify(error)
    if failure is not StoreFailure.OUTAGE:
        return failure.value
    if isinstance(error, ProgrammingError) or (sqlstate(error) or "").startswith("42"):
        return DEFECT
    if isinstance(error, DBAPIError) and _SQLITE_SCHEMA_MISMATCH.match(_first_line(error)):
        return DEFECT
    return StoreFailure.OUTAGE.value


def _first_line(error: DBAPIError) -> str:
    return str(error.orig).splitlines()[0] if str(error.orig) else ""


class StoreErrors:
    """One loop's reports of the store's errors; `where` starts each log line ("dispatcher")."""

    def __init__(
        self, where: str, telemetry: Telemetry = NO_TELEMETRY, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._where = where
        self._telemetry = telemetry
        self._clock = clock
        self._reported: set[tuple[str, str]] = set()  # (classes, message): each logged at ERROR once
        self._outage_since: float | None = None  # when this loop first met the outage it is in
        self._outage_said = 0.0  # when it last said so
        self._failed_tries = 0

    def answered(self) -> None:
        """The store answered this loop: an outage it reported is over, and it says so once. At
        WARNING, as the outage was, so a log kept at WARNING shows both ends of it."""
        if self._outage_since is None:
            return
        lasted = self._clock() - self._outage_since
        log.warning("%s: store available again after %.0f s (%d tries failed)", self._where, lasted, self._failed_tries)
        self._outage_since, self._failed_tries = None, 0

    def _outage(self, error: BaseException, outage: str) -> None:
        now = self._clock()
        self._failed_tries += 1
        if self._outage_since is None:
            self._outage_since = self._outage_said = now
            log.warning("%s: store unavailable (%s); %s", self._where, type(error).__name__, outage)
        elif now - self._outage_said >= OUTAGE_REMINDER_SECONDS:
            self._outage_said = now
            lasted = now - self._outage_since
            log.warning(
                "%s: store still unavailable after %.0f s (%s, %d tries failed); %s",
                self._where,
                lasted,
                type(error).__name__,
                self._failed_tries,
                outage,
            )

    def pause_after(self, error: BaseException, seconds: float, outage: str = "retrying") -> float:
        """Log and count `error`; the seconds to wait before trying again (`seconds` in an outage)."""
        kind = kind_of(error)
        if kind == StoreFailure.OUTAGE:
            self._outage(error, outage)
            return seconds
        self._telemetry.store_defect(self._where, kind)
        # A defect's driver message names the schema (no such table: outbox); bad data's may quote the
        # refused value, so it is said in storage.failures' words instead.
        said = _first_line(error) if kind == DEFECT and isinstance(error, DBAPIError) else reason(error)
        classes = describe(error)
        level = logging.DEBUG if (classes, said) in self._reported else logging.ERROR
        self._reported.add((classes, said))
        pause = max(seconds, DEFECT_PAUSE_SECONDS)
        hint = _HINTS[kind]
        log.log(
            level, "%s: store error %s, %s: %s; %s; retrying in %.0f s", self._where, classes, kind, said, hint, pause
        )
        return pause
