"""Asking about a page's worth of ids: `column IN (…)`, or a range when the ids are dense.

A launch page asks about thousands of residents (and their addresses) at once, with ids that follow
each other. An IN list of thousands costs SQLAlchemy a bound parameter each to name and render on
every statement; `BETWEEN lowest AND highest` costs two, and the index reads the same range. The
range may hold other ids too (at most as many again), so callers keep only the rows of their ids.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement

DENSE_FROM = 64  # fewer ids than this: an IN list is cheap enough


def among(column: Any, ids: Collection[int]) -> ColumnElement[bool]:
    """A condition that holds for `column` in `ids` (and, when read as a range, maybe for a few more:
    filter the result)."""
    if len(ids) >= DENSE_FROM:
        lowest, highest = min(ids), max(ids)
        if highest - lowest < 2 * len(ids):
            condition: ColumnElement[bool] = column.between(lowest, highest)
            return condition
    return column.in_(list(ids))  # type: ignore[no-any-return]
