"""Exports as other systems read them (CLI and API alike): CSV or JSON Lines, streamed in constant
memory, with pseudonymous respondents, allowlisted attributes, and answer texts only where the
question asked for text."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Sequence
from typing import Literal

from flows.campaign import Campaign
from outreach.results.public_values import PublicValues
from storage.db import SessionFactory, read_session
from storage.read_models import export_fields, export_rows
from storage.tables import CampaignRecord

ExportKind = Literal["csv", "jsonl"]


async def export_lines(
    sessions: SessionFactory, record: CampaignRecord, flow: Campaign, attributes: Sequence[str], kind: ExportKind
) -> AsyncIterator[str]:
    """The export line by line (a CSV starts with its header)."""
    public = PublicValues(flow)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=export_fields(attributes), lineterminator="\r\n")
    if kind == "csv":
        writer.writeheader()
        yield _drain(buffer)
    async with read_session(sessions) as session:
        async for row in export_rows(session, record, attributes):
            value = public(row["question"], row["value"])
            if value is None:
                continue
            if kind == "csv":
                writer.writerow({**row, "value": "|".join(value) if isinstance(value, list) else value})
                yield _drain(buffer)
            else:
                yield json.dumps({**row, "value": value}, ensure_ascii=False) + "\n"


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
