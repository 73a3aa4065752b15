"""What the tables cannot hold, checked before writing so that a bad value is a 422 or a rejected row,
not a database error: column widths, the NUL character, moments out of the store's range of dates.
(A resident's fields are checked where every import reads them: outreach.campaigns.resident_rows.)"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flows.campaign import Campaign

LONE_SURROGATE = re.compile("[\ud800-\udfff]")

# Column widths of the tables, checked here so that a too-long value is a 422, not a database error.
MAX_CAMPAIGN_NAME = 200
MAX_QUESTION_ID = 64


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for key, item in value.items() for text in (*_strings(key), *_strings(item))]
    if isinstance(value, list | tuple):
        return [text for item in value for text in _strings(item)]
    return []


def campaign_problems(flow: Campaign) -> list[dict[str, str]]:
    """What the tables cannot hold of a campaign, as validation problems."""
    problems = []
    if len(flow.name) > MAX_CAMPAIGN_NAME:
        problems.append({"at": "name", "message": f"at most {MAX_CAMPAIGN_NAME} characters"})
    for index, question in enumerate(flow.questions):
        if len(question.id) > MAX_QUESTION_ID:
            problems.append({"at": f"questions.{index}.id", "message": f"at most {MAX_QUESTION_ID} characters"})
    texts = _strings(flow.model_dump(mode="json"))
    if any("\x00" in text for text in texts):
        problems.append({"at": "(body)", "message": "texts cannot contain the NUL character"})
    if any(LONE_SURROGATE.search(text) for text in texts):  # a YAML escape can make one; no store keeps it
        problems.append({"at": "(body)", "message": "a text holds a lone UTF-16 surrogate, which is no character"})
    for name in ("start", "close"):
        moment = getattr(flow.schedule, name)
        if moment is not None and not storable_moment(moment):
            problems.append({"at": f"schedule.{name}", "message": "out of the range of dates the store keeps"})
    return problems


def storable_moment(moment: datetime) -> bool:
    try:
        moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return False
    return True
