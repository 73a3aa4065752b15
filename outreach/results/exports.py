"""Exports as other systems read them (CLI and API alike): CSV or JSON Lines, streamed in constant
memory, with pseudonymous respondents, allowlisted attributes, and answer texts only where the
question asked for text.

A CSV is opened in spreadsheets, which run a cell that starts with =, +, -, @, a tab or a carriage
return as a formula (CSV injection): such a text cell, an answer or an attribute alike, is written with
a ' in front (OWASP's rule), and so is one that starts with ', so that taking one ' off any cell that
starts with it gives the text back exactly. Numbers are written as numbers: -3 is no formula, and a '
would make it text. JSON Lines is not for spreadsheets and keeps every value exact.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Sequence
from typing import Literal

from flows.campaign import Campaign
from outreach.results.public_values import PublicValues, public_time
from outreach.results.weighted import RespondentWeights
from outreach.settings import RowTimePrecision
from storage.db import SessionFactory, read_session
from storage.read_models import WEIGHTING_VALUES, export_fields, export_rows
from storage.tables import CampaignRecord

ExportKind = Literal["csv", "jsonl"]
WEIGHT = "weight"  # the column of a weighted export

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # OWASP's list for CSV injection
_PREFIXED_STARTS = (*FORMULA_STARTS, "'")


def csv_cell(value: object) -> object:
    """A value as a CSV cell: text that a spreadsheet would run as a formula gets a ' in front (and so
    does text starting with ', which keeps the rule reversible); numbers and None (empty) as they are."""
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        return value
    text = str(value)
    return f"'{text}" if text.startswith(_PREFIXED_STARTS) else text


async def export_lines(
    sessions: SessionFactory,
    record: CampaignRecord,
    flow: Campaign,
    attributes: Sequence[str],
    kind: ExportKind,
    *,
    time_precision: RowTimePrecision,
    weights: RespondentWeights | None = None,
) -> AsyncIterator[str]:
    """The export line by line (a CSV starts with its header); `answered_at` cut to `time_precision`.
    With `weights`, a last column `weight`: the respondent's weight (empty for one left out of the
    weighting, whose value of a dimension matches no margin)."""
    public = PublicValues(flow)
    buffer = io.StringIO()
    fields = [*export_fields(attributes), *([WEIGHT] if weights else [])]
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\r\n")
    if kind == "csv":
        writer.writeheader()
        yield _drain(buffer)
    async with read_session(sessions) as session:
        async for stored in export_rows(session, record, attributes, weights.by if weights else ()):
            value = public(stored["question"], stored["value"])
            if value is None:
                continue
            row = {**stored, "answered_at": public_time(stored["answered_at"], time_precision).isoformat()}
            if weights is not None:
                row[WEIGHT] = weights.weight(stored["respondent"], row.pop(WEIGHTING_VALUES))
            if kind == "csv":
                cells = {**row, "value": "|".join(value) if isinstance(value, list) else value}
                writer.writerow({name: csv_cell(cell) for name, cell in cells.items()})
                yield _drain(buffer)
            else:
                yield json.dumps({**row, "value": value}, ensure_ascii=False) + "\n"


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
