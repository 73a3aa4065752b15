"""pydantic's messages about a value as Explanations by their type code (flows.value_errors): every
error our models produce for the bad values below is explained, in pydantic's own English words; a type
without a table entry, or a message worded otherwise, is not (it stays English)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from flows.campaign import Campaign
from flows.model import SKIP_SEMANTIC
from flows.value_errors import STRING_TYPE_QUOTED, value_error_explanation

BASE: dict[str, Any] = {
    "name": "Park",
    "languages": ["pl"],
    "channels": ["sms"],
    "questions": [{"id": "q", "type": "yesno", "text": {"pl": "Czy?"}}],
}


def changed(question: dict[str, Any] | None = None, **top: Any) -> dict[str, Any]:
    document = copy.deepcopy(BASE) | top
    document["questions"][0].update(question or {})
    return document


BAD = {
    "int_parsing": changed(reask_unclear="x"),
    "int_from_float": changed(reask_unclear=1.5),
    "less_than_equal": changed(reask_unclear=7),
    "greater_than_equal": changed(reask_unclear=-1),
    "greater_than": changed(budget=0),
    "float_parsing": changed(budget="x"),
    "finite_number": changed({"max_length": 1e400}),
    "bool_parsing": changed(sms={"fold_diacritics": "maybe"}),
    "string_type": changed(name=5),
    "string_too_short": changed(name=""),
    "too_short": changed(languages=[]),
    "list_type": changed(languages="pl"),
    "dict_type": changed(audience={"where": "x"}),
    "model_type": changed(schedule="x"),
    "literal_error": changed({"type": "bogus"}),
    "string_pattern_mismatch": changed(whatsapp={"content_sid": "nope"}),
    "missing": changed(whatsapp={}),
    "language": changed(languages=["xx"]),
    "duplicate": changed(channels=["sms", "sms"]),
    "number": changed({"type": "scale", "min": "a", "max": 5}),
    "next": changed({"next": {"no": 5}}),
    "allocation": changed(audience={"sample": {"allocation": "x"}}),
    "strategy": changed(reminders={"strategy": "x"}),
    "duration": changed(answer_within="x"),
    "datetime": changed(schedule={"start": "x"}),
    "naive_datetime": changed(schedule={"start": "2027-01-01"}),
    "quiet_hours": changed(schedule={"quiet_hours": "x"}),
}


def errors_of(document: dict[str, Any]) -> list[ErrorDetails]:
    with pytest.raises(ValidationError) as refused:
        Campaign.model_validate(document, context={SKIP_SEMANTIC: True})
    return refused.value.errors()


@pytest.mark.parametrize("kind", sorted(BAD))
def test_each_error_is_explained_in_pydantics_words(kind: str) -> None:
    errors = errors_of(BAD[kind])
    assert kind in [error["type"] for error in errors]
    for error in errors:
        explanation = value_error_explanation(error)
        assert explanation is not None, error
        assert (explanation.code, explanation.text) == (error["type"], error["msg"])


def test_a_number_is_said_as_pydantic_says_it_and_a_literals_choices_with_a_translatable_or() -> None:
    (share,) = errors_of(changed(audience={"sample": {"share": 2}}))
    explanation = value_error_explanation(share)
    assert explanation is not None and explanation.params == {"le": 1}  # not 1.0
    (kind,) = errors_of(BAD["literal_error"])
    explanation = value_error_explanation(kind)
    assert explanation is not None
    assert explanation.params["expected"].params["last"] == "'text'"  # type: ignore[attr-defined]


def test_the_loaders_quotes_hint_has_its_own_wording() -> None:
    (error,) = errors_of(BAD["string_type"])
    explanation = value_error_explanation(error, error["msg"] + "; put the value in quotes")
    assert explanation is not None and explanation.template == STRING_TYPE_QUOTED


def test_an_unknown_type_or_another_wording_stays_english() -> None:
    (error,) = errors_of(BAD["int_parsing"])
    assert value_error_explanation(error | {"type": "json_invalid"}) is None
    assert value_error_explanation(error | {"msg": "Input should be an integer, say"}) is None
