"""A campaign's answers as a Flow Results package (the FLOIP open specification, version 1.1.0,
that RapidPro-family tools and analysis platforms read): a Data Package descriptor whose one
resource describes the questions, their types and choices, and the responses themselves, one
7-column row array per answer, in the JSON "row array" format the specification prescribes.

The same rows as the exports, under the same rules: the contact id is the respondent's pseudonym
(per campaign, unlinkable across campaigns), the only attributes are the allowlisted ones (in the
row's metadata), the time is cut to the hour or the day (`public_time`), an answer appears only in
the shape its question allows (`public_value`), free text only for text questions.

Choices made where the specification leaves room (docs/API.md, "Flow Results packages"):
- row id: `<respondent>-<question id>`. A respondent answers a question once (the answers' unique
  key), the pseudonym is of fixed length and has no `-`: unique in the package, stable between
  downloads, and no internal id or count leaves the service.
- session id: the respondent's pseudonym again: a resident has one conversation per campaign.
- `created` and `modified`: when the campaign was created (its definition, hence the questions,
  never changes after), `id`: a UUID of version 4's layout derived from the campaign's slug and
  creation time, so that every download of one campaign is the same package, growing.
- question types: yes/no and choice are `select_one` (choices: the option keys), multi is
  `select_many`, scale and number are `numeric` (with `range` where both ends are known), text is
  `text` and marked `is_personal_information` (residents write names and streets).
- labels: the question's text in the campaign's first language (the specification leaves
  localisation out); `language`: that language in ISO 639-3, as the specification asks.
- metadata: `channel`, `language` (the answer's, ISO 639-3) and `attributes` (the allowlisted ones).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

from flows.campaign import Campaign
from flows.model import YESNO_KEYS, Question
from outreach.results.public_values import PublicValues, public_time
from outreach.settings import RowTimePrecision
from storage.db import SessionFactory, read_session
from storage.exports import export_attributes, export_batches
from storage.tables import CampaignRecord

SPECIFICATION_VERSION = "1.1.0"
PROFILE = "flow-results-package"
DESCRIPTOR_FILE = "datapackage.json"
RESPONSES_FILE = "responses.json"
RESPONSES_RESOURCE = "responses"

# The seven columns the specification fixes, in its order: (name, title, Table Schema type).
FIELDS = (
    ("timestamp", "Timestamp", "datetime"),
    ("row_id", "Row ID", "string"),
    ("contact_id", "Contact ID", "string"),
    ("session_id", "Session ID", "string"),
    ("question_id", "Question ID", "string"),
    ("response", "Response", "any"),
    ("response_metadata", "Response Metadata", "object"),
)

# The service's languages (flows.languages.LANGUAGES) in ISO 639-3, which the specification uses
# for labels and answers; tests/outreach/results/test_flow_results.py fails on a language missing here.
ISO_639_3 = {"pl": "pol", "en": "eng", "uk": "ukr"}

# The metadata keys the rows set themselves: an allowlisted attribute of that name stays out.
_ROW_KEYS = ("channel", "language")
_NOT_IN_A_NAME = re.compile(r"[^a-z0-9._-]+")


def package_id(slug: str, created_at: datetime) -> str:
    """A UUID in version 4's layout, derived rather than drawn so that the package keeps its id."""
    digest = hashlib.sha256(f"outreach flow-results {slug} {created_at.astimezone(UTC).isoformat()}".encode())
    return str(uuid.UUID(bytes=digest.digest()[:16], version=4))


def package_name(slug: str) -> str:
    """The slug as a Data Package name: lower case, letters, digits, '.', '_' and '-' only."""
    return _NOT_IN_A_NAME.sub("-", slug.lower()).strip("-") or "campaign"


def rfc3339(moment: datetime) -> str:
    """RFC 3339 in UTC with the +00:00 offset (the specification wants it rather than Z)."""
    return moment.astimezone(UTC).isoformat()


def question_metadata(question: Question, language: str) -> dict[str, Any]:
    """One entry of the descriptor's `questions`."""
    label = question.text.get(language) or next(iter(question.text.values()), question.id)
    kind = question.type
    entry: dict[str, Any]
    if kind in ("yesno", "choice"):
        choices = list(YESNO_KEYS) if kind == "yesno" else [option.key for option in question.options]
        entry = {"type": "select_one", "label": label, "type_options": {"choices": choices}}
    elif kind == "multi":
        entry = {
            "type": "select_many",
            "label": label,
            "type_options": {"choices": [option.key for option in question.options]},
        }
    elif kind in ("scale", "number"):
        span = [question.min, question.max] if question.min is not None and question.max is not None else None
        entry = {"type": "numeric", "label": label, "type_options": {"range": span} if span else {}}
    else:  # text
        entry = {"type": "text", "label": label, "type_options": {}, "is_personal_information": True}
    return entry


def flow_results_descriptor(flow: Campaign, *, slug: str, created_at: datetime) -> dict[str, Any]:
    """The package's descriptor (datapackage.json): its one resource is responses.json beside it."""
    language = flow.languages[0]
    schema: dict[str, Any] = {
        "fields": [{"name": name, "title": title, "type": kind} for name, title, kind in FIELDS],
        "questions": {question.id: question_metadata(question, language) for question in flow.questions},
    }
    if language in ISO_639_3:
        schema["language"] = ISO_639_3[language]
    created = rfc3339(created_at.replace(microsecond=0))
    return {
        "profile": PROFILE,
        "name": package_name(slug),
        "title": flow.name,
        "flow_results_specification_version": SPECIFICATION_VERSION,
        "created": created,
        "modified": created,
        "id": package_id(slug, created_at),
        "resources": [
            {
                "name": RESPONSES_RESOURCE,
                "path": RESPONSES_FILE,
                "access_method": "file",
                # A Tabular Data Resource in JSON: Data Package tools (frictionless) read its rows,
                # which carry no header row, by the schema's fields.
                "profile": "tabular-data-resource",
                "format": "json",
                "mediatype": "application/json",
                "encoding": "utf-8",
                "dialect": {"header": False},
                "schema": schema,
            }
        ],
    }


def descriptor_text(descriptor: dict[str, Any]) -> str:
    return json.dumps(descriptor, ensure_ascii=False, indent=2) + "\n"


async def response_rows(
    sessions: SessionFactory,
    record: CampaignRecord,
    flow: Campaign,
    attributes: Sequence[str],
    *,
    time_precision: RowTimePrecision,
) -> AsyncIterator[str]:
    """responses.json as text chunks (a JSON array of 7-element arrays, one answer a line), read from
    the database a batch at a time: memory stays flat however many answers there are."""
    assert record.id is not None
    public = PublicValues(flow)
    names = export_attributes([name for name in attributes if name not in _ROW_KEYS])
    times: dict[datetime, str] = {}  # a cut time's text, made once per hour or day seen
    separator = "\n"
    yield "["
    async with read_session(sessions) as session:
        async for batch in export_batches(session, record.id, names):
            lines: list[str] = []
            for question_id, respondent, stored, channel, answered_at, language, values, _ in batch:
                value = public(question_id, stored)
                if value is None:
                    continue
                cut = public_time(answered_at, time_precision)
                stamp = times.get(cut) or times.setdefault(cut, cut.isoformat())
                snapshot = dict(zip(names, values, strict=True))
                metadata = {"channel": channel, "language": ISO_639_3.get(language, language), "attributes": snapshot}
                row = [stamp, f"{respondent}-{question_id}", respondent, respondent, question_id, value, metadata]
                lines.append(separator + json.dumps(row, ensure_ascii=False))
                separator = ",\n"
            if lines:
                yield "".join(lines)
            if len(times) > 10_000:  # a campaign over years at hourly precision: keep it bounded
                times.clear()
    yield "\n]\n"


def flow_results_files(
    sessions: SessionFactory,
    record: CampaignRecord,
    flow: Campaign,
    attributes: Sequence[str],
    *,
    time_precision: RowTimePrecision,
) -> list[tuple[str, AsyncIterator[str]]]:
    """The package's two files, each a name and its text in chunks: the descriptor, then the
    responses (read only as they are consumed)."""
    descriptor = flow_results_descriptor(flow, slug=record.slug, created_at=record.created_at)
    rows = response_rows(sessions, record, flow, attributes, time_precision=time_precision)
    return [(DESCRIPTOR_FILE, _once(descriptor_text(descriptor))), (RESPONSES_FILE, rows)]


async def _once(text: str) -> AsyncIterator[str]:
    yield text
