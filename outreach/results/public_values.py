"""What of a stored answer may leave the service: the matched answer, never the words of a reply
that was matched to an option (text appears only for text questions, its phone numbers, e-mail
addresses and PESEL numbers masked), and when it was given only to the hour or the day."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flows.campaign import Campaign
from flows.model import YESNO_KEYS, AnswerValue, Question
from outreach.privacy.scrubber import scrub_text
from outreach.settings import RowTimePrecision


def public_value(question: Question | None, value: Any) -> AnswerValue | None:
    """The value as published, or None when it does not have the shape its question allows."""
    if question is None or value is None:
        return None
    kind = question.type
    if kind == "text":
        # Residents write their numbers and addresses into free text: every row that leaves (the API,
        # exports, Flow Results, webhooks) masks them, as the results pages do.
        return scrub_text(value) if isinstance(value, str) else None
    if kind == "yesno":
        return value if isinstance(value, str) and value in YESNO_KEYS else None
    if kind == "choice":
        return value if isinstance(value, str) and value in {option.key for option in question.options} else None
    if kind == "multi":
        keys = {option.key for option in question.options}
        if isinstance(value, list) and all(isinstance(key, str) and key in keys for key in value):
            return [str(key) for key in value]
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if kind == "scale":
        return value if value in question.scale_values() else None
    return value  # number


class PublicValues:
    """`public_value` for every question of one campaign."""

    def __init__(self, flow: Campaign) -> None:
        self._questions = {question.id: question for question in flow.questions}

    def __call__(self, question_id: str, value: Any) -> AnswerValue | None:
        return public_value(self._questions.get(question_id), value)


def public_time(moment: datetime, precision: RowTimePrecision) -> datetime:
    """When a row was answered, as every row that leaves the service gives it (the API, the exports,
    and whatever else publishes rows): in UTC, cut down to the start of its hour or day. An exact time
    could be joined with a provider's log of who wrote when, and would name the respondent."""
    utc = moment.astimezone(UTC)
    if precision == "day":
        return utc.replace(hour=0, minute=0, second=0, microsecond=0)
    return utc.replace(minute=0, second=0, microsecond=0)
