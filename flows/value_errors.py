"""pydantic's messages about a value ("Input should be a valid integer", a custom error of flows.model)
as Explanations, found by the error's stable `type` code and filled from its `ctx`, so the officials'
pages can say them in Polish. The English templates are pydantic's own words: a template is used only
when it gives back exactly the message pydantic wrote, so a pydantic upgrade that rewords one (or a
type with several wordings, picked this way) falls back to the English message, never to a wrong one."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic_core import ErrorDetails

from flows.explanation import Explanation

# Type code -> its English wordings (the first that gives back pydantic's message is used). Those of
# pydantic itself our models can produce, then flows.model's and flows.timing's own custom errors.
VALUE_ERRORS: Mapping[str, tuple[str, ...]] = {
    "int_parsing": ("Input should be a valid integer, unable to parse string as an integer",),
    "int_from_float": ("Input should be a valid integer, got a number with a fractional part",),
    "int_type": ("Input should be a valid integer",),
    "int_parsing_size": ("Unable to parse input string as an integer, exceeded maximum size",),
    "float_parsing": ("Input should be a valid number, unable to parse string as a number",),
    "float_type": ("Input should be a valid number",),
    "finite_number": ("Input should be a finite number",),
    "bool_parsing": ("Input should be a valid boolean, unable to interpret input",),
    "bool_type": ("Input should be a valid boolean",),
    "string_type": ("Input should be a valid string",),
    "dict_type": ("Input should be a valid dictionary",),
    "list_type": ("Input should be a valid list",),
    "model_type": ("Input should be a valid dictionary or instance of %(class_name)s",),
    "missing": ("Field required",),
    "extra_forbidden": ("Extra inputs are not permitted",),
    "greater_than": ("Input should be greater than %(gt)s",),
    "greater_than_equal": ("Input should be greater than or equal to %(ge)s",),
    "less_than": ("Input should be less than %(lt)s",),
    "less_than_equal": ("Input should be less than or equal to %(le)s",),
    "string_too_short": (
        "String should have at least %(min_length)s character",
        "String should have at least %(min_length)s characters",
    ),
    "string_too_long": (
        "String should have at most %(max_length)s character",
        "String should have at most %(max_length)s characters",
    ),
    "too_short": (
        "%(field_type)s should have at least %(min_length)s item after validation, not %(actual_length)s",
        "%(field_type)s should have at least %(min_length)s items after validation, not %(actual_length)s",
    ),
    "too_long": (
        "%(field_type)s should have at most %(max_length)s item after validation, not %(actual_length)s",
        "%(field_type)s should have at most %(max_length)s items after validation, not %(actual_length)s",
    ),
    "literal_error": ("Input should be %(expected)s",),
    "enum": ("Input should be %(expected)s",),
    "string_pattern_mismatch": ("String should match pattern '%(pattern)s'",),
    # flows.model, flows.timing, flows.unknown_outcomes (their `what` of a duplicate is a word below).
    "language": ("unknown language '%(code)s'; use one of: %(known)s",),
    "channel": ("unknown channel '%(name)s'; use one of: %(known)s",),
    "duplicate": ("%(what)s '%(value)s' is listed twice",),
    "number": ("'%(value)s' is not a number; write digits, e.g. 1 or 2.5",),
    "next": (
        "next is a question id, end, or a mapping from answers to question ids, e.g. {no: why_not}",
        "a branch leads to a question id or end; put the id in quotes",
    ),
    "allocation": ("allocation is proportional, equal, or %(fixed)s; not '%(value)s'",),
    "strategy": (
        "strategy is uniform (every silent resident alike) or lagging_strata (the strata answering least"
        " first); not '%(value)s'",
    ),
    "on_unknown": ("on_unknown is resend (may reach the resident twice) or give_up (may miss them); not '%(value)s'",),
    "duration": ("'%(value)s' is not a duration; write a whole number and a unit (%(examples)s), longer than zero",),
    "datetime": (
        "'%(value)s' is not a date and time; write it like %(example)s",
        "write a date and time like %(example)s",
    ),
    "naive_datetime": (
        "'%(value)s' has no time zone; give an offset, e.g. +01:00 (%(example)s)",
        "'%(value)s' is a date alone; give a time and an offset, e.g. %(example)s",
    ),
    "quiet_hours": (
        "'%(value)s' is not a quiet-hours window; write \"HH:MM-HH:MM\" with two different times, "
        'e.g. "21:00-08:00" (it may cross midnight), or null for none',
    ),
}
# Parameters that are English words of the catalog, said in the page's language.
WORDED: Mapping[str, tuple[str, ...]] = {
    "too_short": ("field_type",),
    "too_long": ("field_type",),
    "duplicate": ("what",),
}
# The words those parameters take (pydantic's kinds of collection; what flows.model finds listed twice).
WORDS = ("List", "Dictionary", "Set", "Tuple", "Frozenset", "language", "channel", "stratum dimension")
# Our own addition to string_type's message (flows.loader): a number or a date where text was meant.
QUOTES_HINT = "; put the value in quotes"
STRING_TYPE_QUOTED = "Input should be a valid string; put the value in quotes"
# A literal's choices as pydantic lists them: 'a', 'b' or 'c'.
CHOICES = "%(listed)s or %(last)s"
_QUOTED = re.compile(r"'[^']*'")


def value_error_explanation(error: ErrorDetails, message: str | None = None) -> Explanation | None:
    """The error in words that can be translated; None for a type without a table entry, or when no
    wording gives back `message` (pydantic's message unless given: flows.loader adds QUOTES_HINT)."""
    kind = error["type"]
    said = error["msg"] if message is None else message
    if kind == "string_type" and said == error["msg"] + QUOTES_HINT:
        return Explanation(kind, STRING_TYPE_QUOTED) if error["msg"] == VALUE_ERRORS[kind][0] else None
    params = {name: _said(value) for name, value in (error.get("ctx") or {}).items() if name != "at"}
    if kind in ("literal_error", "enum") and isinstance(params.get("expected"), str):
        params["expected"] = _choices(str(params["expected"]))
    for template in VALUE_ERRORS.get(kind, ()):
        explanation = Explanation(kind, template, params, WORDED.get(kind, ()))
        try:
            if explanation.text == said:
                return explanation
        except (KeyError, TypeError, ValueError):  # a parameter this wording lacks
            continue
    return None


def _said(value: Any) -> object:
    """A number as pydantic writes it in a message (0.0 as 0)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _choices(expected: str) -> str | Explanation:
    """'a', 'b' or 'c' with its "or" as a word of the catalog; as it is when it is one choice (or odd)."""
    items = _QUOTED.findall(expected)
    if len(items) < 2:
        return expected
    explanation = Explanation("choices", CHOICES, {"listed": ", ".join(items[:-1]), "last": items[-1]})
    return explanation if explanation.text == expected else expected
