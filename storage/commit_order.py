"""Commit order of rows that other systems sync incrementally (responses).

An autoincrement id is not a commit order on PostgreSQL: a transaction that took id 10 may commit
after one that took id 11, and a reader who already moved past 11 would never see 10. So every row
records the id of the transaction that wrote it (`pg_current_xact_id()`, 64 bits, never wraps), and
readers only hand out rows whose transaction is older than the oldest transaction still running
(`pg_snapshot_xmin(pg_current_snapshot())`): every transaction below that horizon has finished, so
no row can still appear behind a position once handed out. Rows are ordered by (txid, id).

SQLite serialises writers (every write transaction begins IMMEDIATE, see `storage.db`), so there
the id alone is commit-ordered: txid is 0 on every row, the horizon is unbounded, and the table
uses AUTOINCREMENT so an id is never reused.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, ColumnElement, and_, literal_column, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

# Every txid is below this on SQLite, where all rows carry 0.
UNBOUNDED = 2**63 - 1


class writing_transaction(FunctionElement[int]):
    """The id of the transaction that runs the INSERT: a column default, rendered per database."""

    type = BigInteger()
    inherit_cache = True


@compiles(writing_transaction)
def _serialised_writers(element: writing_transaction, compiler: SQLCompiler, **kw: Any) -> str:
    return "0"


@compiles(writing_transaction, "postgresql")
def _postgres_transaction_id(element: writing_transaction, compiler: SQLCompiler, **kw: Any) -> str:
    return "(pg_current_xact_id()::text::bigint)"


def finished_below(dialect_name: str) -> ColumnElement[int]:
    """The txid below which every transaction has finished, as seen by the reading statement."""
    if dialect_name == "postgresql":
        return literal_column("(pg_snapshot_xmin(pg_current_snapshot())::text::bigint)", BigInteger())
    return literal_column(str(UNBOUNDED), BigInteger())


def ready_after(
    txid: ColumnElement[Any] | Mapped[Any],
    row_id: ColumnElement[Any] | Mapped[Any],
    after_txid: int,
    after_id: int,
    dialect_name: str,
) -> ColumnElement[bool]:
    """Rows past the position (after_txid, after_id) in commit order that every reader will always see
    in this order: their transaction is below the finished horizon. What a feed's page reads."""
    past = or_(txid > after_txid, and_(txid == after_txid, row_id > after_id))
    return and_(past, txid < finished_below(dialect_name))
