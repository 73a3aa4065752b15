"""The export query: every answer of a campaign as plain rows, read in batches, with only the
allowlisted attributes of the respondent as they were when answering (the snapshot on the answer,
never the resident's current row). Pseudonymous ids only."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.tables import Response
from storage.weighting_cells import Values, snapshot_values

ANSWER_FIELDS = ("campaign", "question", "respondent", "value", "channel", "answered_at", "language")
# Rows per database fetch and per batch handed on: large enough that the per-fetch cost (an await, a
# greenlet switch) vanishes, small enough that a batch stays well under a megabyte.
EXPORT_BATCH = 1000
DECODED_KEPT = 4096  # distinct JSON texts kept decoded (values and snapshots repeat; free texts do not)

# question id, respondent, value, channel, answered_at (exact: the caller publishes it coarsened),
# language, the allowlisted attributes' values (in the order asked), and the respondent's values of
# the weighting dimensions (None unless asked for).
ExportedAnswer = tuple[str, str, Any, str, datetime, str, tuple[Any, ...], Values | None]


def export_fields(attributes: Sequence[str]) -> list[str]:
    """The columns of an export: the answer, then the allowlisted attributes."""
    return [*ANSWER_FIELDS, *export_attributes(attributes)]


def export_attributes(attributes: Sequence[str]) -> list[str]:
    """The allowlisted attributes an export has columns for (a name of an answer field is not one)."""
    return [name for name in attributes if name not in ANSWER_FIELDS]


class _Decoded:
    """Each JSON text decoded once: an export's values and snapshots are mostly the same few texts (an
    option key, the district and age band of many respondents). Bounded: emptied when full."""

    def __init__(self, decode: Any = json.loads) -> None:
        self._decode = decode
        self._values: dict[str, Any] = {}

    def __call__(self, text: str | float) -> Any:
        if not isinstance(text, str):
            return text  # SQLite hands a JSON number back as the number (the column's NUMERIC affinity)
        value = self._values.get(text, _MISSING)
        if value is _MISSING:
            if len(self._values) >= DECODED_KEPT:
                self._values.clear()
            value = self._values[text] = self._decode(text)
        return value


_MISSING = object()


async def export_batches(
    session: AsyncSession,
    campaign_id: int,
    attributes: Sequence[str],
    weighting: Sequence[str] = (),
    *,
    batch: int | None = None,
) -> AsyncIterator[list[ExportedAnswer]]:
    """Every answer of a campaign, in commit order (`storage.commit_order`; on SQLite, answer order),
    `batch` rows at a time: plain columns through the core connection, not ORM objects, so memory
    stays flat however many answers there are and no row pays for more than its columns. With
    `weighting` (dimensions), each row ends with the respondent's values of them, for the caller to
    look a weight up by and never to publish. `batch`: EXPORT_BATCH unless given."""
    batch = batch or EXPORT_BATCH
    names = export_attributes(attributes)
    value_of = _Decoded()
    allowlisted = _Decoded(lambda text: tuple(map(json.loads(text).get, names)))
    weighted = _Decoded(json.loads) if weighting else None
    statement = (
        select(
            col(Response.question_id),
            col(Response.respondent),
            # The JSON as text (the drivers would decode every row): decoded here, once per distinct text.
            cast(col(Response.value), Text),
            col(Response.channel),
            col(Response.answered_at),
            col(Response.language),
            cast(col(Response.attributes), Text),
        )
        .where(col(Response.campaign_id) == campaign_id)
        .where(col(Response.value).is_not(None))
        .order_by(col(Response.txid), col(Response.id))
        .execution_options(yield_per=batch)
    )
    connection = await session.connection()
    result = await connection.stream(statement)
    async for rows in result.partitions(batch):
        yield [
            (
                question_id,
                respondent,
                value_of(value),
                channel,
                answered_at,
                language,
                allowlisted(snapshot),
                snapshot_values(weighting, language, weighted(snapshot)) if weighted else None,
            )
            for question_id, respondent, value, channel, answered_at, language, snapshot in rows
        ]
