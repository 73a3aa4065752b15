"""Exports as other systems read them (CLI and API alike): CSV or JSON Lines, streamed in constant
memory, with pseudonymous respondents, allowlisted attributes, and answer texts only where the
question asked for text.

A CSV is opened in spreadsheets, which run a cell that starts with =, +, -, @, a tab or a carriage
return as a formula (CSV injection): such a text cell, an answer or an attribute alike, is written with
a ' in front (OWASP's rule), and so is one that starts with ', so that taking one ' off any cell that
starts with it gives the text back exactly. Numbers are written as numbers: -3 is no formula, and a '
would make it text. JSON Lines is not for spreadsheets and keeps every value exact.

The rows come from the database a batch at a time and leave as one text chunk per batch: the cost of
an export is its rows' columns, not an await and a generator step per line.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from flows.campaign import Campaign
from flows.model import AnswerValue
from outreach.results.public_values import PublicValues, public_time
from outreach.settings import RowTimePrecision
from storage.db import SessionFactory, read_session
from storage.exports import ExportedAnswer, export_attributes, export_batches, export_fields
from storage.tables import CampaignRecord

if TYPE_CHECKING:  # numpy and the weighting are imported only by an export that is weighted
    from outreach.results.weighted import RespondentWeights

ExportKind = Literal["csv", "jsonl"]
Kept = TypeVar("Kept")
WEIGHT = "weight"  # the column of a weighted export

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # OWASP's list for CSV injection
_PREFIXED_STARTS = (*FORMULA_STARTS, "'")
_PREFIXED_FIRST = frozenset(_PREFIXED_STARTS)


def csv_cell(value: object) -> object:
    """A value as a CSV cell: text that a spreadsheet would run as a formula gets a ' in front (and so
    does text starting with ', which keeps the rule reversible); numbers and None (empty) as they are."""
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        return value
    text = str(value)
    return f"'{text}" if text[:1] in _PREFIXED_FIRST else text


class _Kept(dict[Any, Any]):
    """Results kept per key, for what repeats from row to row (question ids, channels, languages,
    option keys, the attribute values of a snapshot). Keys are texts, or tuples of texts and None:
    never numbers, which compare equal across types (1 == 1.0 == True) and would share an entry.
    Bounded: emptied when full (free texts do not repeat)."""

    def keep(self, key: Any, value: Kept) -> Kept:
        if len(self) >= KEPT:
            self.clear()
        self[key] = value
        return value


KEPT = 4096


class PublicTimes:
    """`public_time(...).isoformat()` for many rows: an answer's time cut to the start of its UTC hour
    or day, made once per hour or day seen."""

    def __init__(self, precision: RowTimePrecision) -> None:
        self._day = precision == "day"
        self._texts: dict[int, str] = {}

    def __call__(self, moment: datetime) -> str:
        if moment.tzinfo is not UTC:
            moment = moment.astimezone(UTC)
        bucket = moment.toordinal() if self._day else moment.toordinal() * 24 + moment.hour
        text = self._texts.get(bucket)
        if text is None:
            text = self._texts[bucket] = public_time(moment, "day" if self._day else "hour").isoformat()
        return text


async def export_chunks(
    sessions: SessionFactory,
    record: CampaignRecord,
    flow: Campaign,
    attributes: Sequence[str],
    kind: ExportKind,
    *,
    time_precision: RowTimePrecision,
    weights: RespondentWeights | None = None,
) -> AsyncIterator[str]:
    """The export as text chunks of whole lines (a CSV starts with its header line); `answered_at` cut
    to `time_precision`. With `weights`, a last column `weight`: the respondent's weight (empty for
    one left out of the weighting, whose value of a dimension matches no margin)."""
    assert record.id is not None
    shared = _Export(record.slug, flow, attributes, time_precision, weights)
    rows = _csv_rows if kind == "csv" else _json_rows
    if kind == "csv":
        yield _csv_text([[*export_fields(attributes), *([WEIGHT] if weights else [])]])
    async with read_session(sessions) as session:
        async for batch in export_batches(session, record.id, attributes, weights.by if weights else ()):
            yield rows(shared, batch)


class _Export:
    """What every row of one export shares: its public values, times, kept cells and weights."""

    def __init__(
        self,
        slug: str,
        flow: Campaign,
        attributes: Sequence[str],
        precision: RowTimePrecision,
        weights: RespondentWeights | None,
    ) -> None:
        self.slug = slug
        self.public = PublicValues(flow)
        self.attributes = export_attributes(attributes)
        self.time = PublicTimes(precision)
        self.weights = weights
        self._values = _Kept()  # (question id, type, stored value) -> public value
        self._texts = _Kept()  # text -> its CSV cell
        self._attributes = _Kept()  # attribute values (texts or None) -> their CSV cells

    def value(self, question_id: str, stored: Any) -> AnswerValue | None:
        """The public value, asked once per question and stored value (keyed with the value's type, so
        that 1, 1.0 and True stay apart)."""
        kind = type(stored)
        if kind is str or kind is int or kind is float:
            key: tuple[Any, ...] = (question_id, kind, stored)
        elif kind is list and all(type(item) is str for item in stored):
            key = (question_id, kind, *stored)
        else:
            return self.public(question_id, stored)
        if key in self._values:
            known: AnswerValue | None = self._values[key]
            return known
        return self._values.keep(key, self.public(question_id, stored))

    def text(self, text: str) -> object:
        cell = self._texts.get(text)
        return self._texts.keep(text, csv_cell(text)) if cell is None else cell

    def attribute_cells(self, values: tuple[Any, ...]) -> list[object]:
        cells: list[object] | None = self._attributes.get(values)
        if cells is None:
            cells = [csv_cell(value) for value in values]
            if all(value is None or type(value) is str for value in values):
                self._attributes.keep(values, cells)
        return cells

    def weight(self, respondent: str, values: tuple[str | None, ...] | None) -> float | None:
        assert self.weights is not None and values is not None
        return self.weights.weight(respondent, values)


_MISSING = object()


def _csv_rows(shared: _Export, batch: list[ExportedAnswer]) -> str:
    value_of, time, text, weighted = shared.value, shared.time, shared.text, shared.weights is not None
    attribute_cells, slug = shared.attribute_cells, csv_cell(shared.slug)
    rows: list[list[Any]] = []
    for question_id, respondent, stored, channel, answered_at, language, attributes, weighting in batch:
        value = value_of(question_id, stored)
        if value is None:
            continue
        if type(value) is str:
            cell = text(value)
        elif isinstance(value, list):
            cell = csv_cell("|".join(value))
        else:
            cell = value  # a number
        row = [
            slug,
            text(question_id),
            f"'{respondent}" if respondent[:1] in _PREFIXED_FIRST else respondent,
            cell,
            text(channel),
            time(answered_at),
            text(language),
            *attribute_cells(attributes),
        ]
        if weighted:
            row.append(shared.weight(respondent, weighting))
        rows.append(row)
    return _csv_text(rows)


def _csv_text(rows: list[list[Any]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def _json_rows(shared: _Export, batch: list[ExportedAnswer]) -> str:
    value_of, time, names, weighted = shared.value, shared.time, shared.attributes, shared.weights is not None
    lines: list[str] = []
    for question_id, respondent, stored, channel, answered_at, language, attributes, weighting in batch:
        value = value_of(question_id, stored)
        if value is None:
            continue
        row: dict[str, Any] = {
            "campaign": shared.slug,
            "question": question_id,
            "respondent": respondent,
            "value": value,
            "channel": channel,
            "answered_at": time(answered_at),
            "language": language,
            **dict(zip(names, attributes, strict=True)),
        }
        if weighted:
            row[WEIGHT] = shared.weight(respondent, weighting)
        lines.append(json.dumps(row, ensure_ascii=False))
    return "".join(line + "\n" for line in lines)
