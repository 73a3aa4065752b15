"""Checks of one question on its own: which keys its type takes, its options and its ranges."""

from __future__ import annotations

from collections.abc import Iterator

from flows.model import QUESTION_TYPES, Question, QuestionType
from flows.problems import Path, Problem

COMMON_KEYS = frozenset({"id", "type", "text", "next"})
TYPE_KEYS: dict[QuestionType, frozenset[str]] = {
    "yesno": frozenset(),
    "choice": frozenset({"options"}),
    "multi": frozenset({"options", "max_choices"}),
    "scale": frozenset({"min", "max", "low", "high"}),
    "number": frozenset({"min", "max", "integer"}),
    "text": frozenset({"max_length"}),
}
MAX_SCALE_SPAN = 10  # 0..10 is the longest scale a resident can answer from a phone


SCALE_END_MISSING = "missing required key '%(key)s'; a scale question needs min and max, e.g. min: 1 and max: 5"
SCALE_ENDS_MISSING = "missing required keys 'min' and 'max'; a scale question needs min and max, e.g. min: 1 and max: 5"


def question_problems(question: Question, path: Path) -> Iterator[Problem]:
    yield from _misplaced_keys(question, path)
    yield from _options(question, path)
    if question.type == "multi":
        yield from _max_choices(question, path)
    elif question.type == "scale":
        yield from _scale(question, path)
    elif question.type == "number":
        yield from _number_range(question, path)


def _misplaced_keys(question: Question, path: Path) -> Iterator[Problem]:
    # Each key belongs to some types; on another type it would be silently meaningless. A default
    # value means nothing either way, and a full dump of a campaign carries every key.
    allowed = COMMON_KEYS | TYPE_KEYS[question.type]
    fields = Question.model_fields
    for key in fields:
        if key in allowed or key not in question.model_fields_set:
            continue
        if getattr(question, key) == fields[key].default:
            continue
        owners = " and ".join(t for t in QUESTION_TYPES if key in TYPE_KEYS[t])
        yield Problem.explained(
            (*path, key),
            "key_of_other_type",
            "'%(key)s' is for %(owners)s questions; remove it from this %(type)s question",
            part="key",
            key=key,
            owners=owners,
            type=question.type,
        )


def _options(question: Question, path: Path) -> Iterator[Problem]:
    if question.type in ("choice", "multi") and not question.options:
        yield Problem.explained(
            (*path, "options"),
            "options_needed",
            "a %(type)s question needs options; list them under options",
            type=question.type,
        )
    seen: set[str] = set()
    for j, option in enumerate(question.options):
        if option.key in seen:
            yield Problem.explained(
                (*path, "options", j, "key"),
                "duplicate_option",
                "duplicate option key '%(key)s'; give each option its own key",
                key=option.key,
            )
        seen.add(option.key)


def _max_choices(question: Question, path: Path) -> Iterator[Problem]:
    count = len(question.options)
    if question.max_choices is not None and count and question.max_choices > count:
        yield Problem.explained(
            (*path, "max_choices"),
            "max_choices_above_options",
            "max_choices is %(max_choices)s but there are only %(count)s options;"
            " use a number from 1 to %(count)s, or remove it to allow all",
            max_choices=question.max_choices,
            count=count,
        )


def _scale(question: Question, path: Path) -> Iterator[Problem]:
    ends = {"min": question.min, "max": question.max}
    missing = [key for key, value in ends.items() if value is None]
    if len(missing) == 1:
        yield Problem.explained(path, "scale_end_missing", SCALE_END_MISSING, key=missing[0])
    elif missing:
        yield Problem.explained(path, "scale_ends_missing", SCALE_ENDS_MISSING)
    for key, value in ends.items():
        if value is not None and not isinstance(value, int):
            yield Problem.explained(
                (*path, key), "scale_not_whole", "a scale's %(key)s must be a whole number, e.g. 1 or 5", key=key
            )
    low, high = question.min, question.max
    if not (isinstance(low, int) and isinstance(high, int)):
        return
    if low >= high:
        yield Problem.explained(
            (*path, "max"),
            "scale_max_not_above_min",
            "max (%(high)s) must be greater than min (%(low)s); a scale goes from min up to max",
            high=high,
            low=low,
        )
    elif high - low > MAX_SCALE_SPAN:
        yield Problem.explained(
            (*path, "max"),
            "scale_too_wide",
            "a scale spans at most %(span)s steps (max - min <= %(span)s), %(low)s..%(high)s spans %(spans)s;"
            " e.g. use 1..5 or 0..10",
            span=MAX_SCALE_SPAN,
            low=low,
            high=high,
            spans=high - low,
        )


def _number_range(question: Question, path: Path) -> Iterator[Problem]:
    low, high = question.min, question.max
    if low is not None and high is not None and low >= high:
        yield Problem.explained(
            (*path, "max"),
            "range_max_not_above_min",
            "max (%(high)s) must be greater than min (%(low)s); or remove one of them",
            high=high,
            low=low,
        )
