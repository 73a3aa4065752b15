"""The data dictionary of a campaign's answers: fields, questions, their texts per language,
option keys and labels, and the type of `value` for each question; for a weighted export, the
`weight` column and what it was weighted to."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from flows.campaign import Campaign
from flows.model import Question
from flows.texts import YESNO_LABELS
from outreach.results.weighting_request import WeightingRequest
from storage.exports import export_fields

WEIGHT = "weight"  # the last column of a weighted export (outreach.results.exports)


class _DictionaryModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DictionaryField(_DictionaryModel):
    name: str
    type: str
    description: str


class DictionaryOption(_DictionaryModel):
    key: str = Field(description="What `value` holds for this answer.")
    label: dict[str, str] = Field(description="The text residents saw, per language.")


class DictionaryQuestion(_DictionaryModel):
    id: str
    type: str
    value_type: str = Field(description="The JSON type of `value` for this question.")
    text: dict[str, str]
    options: list[DictionaryOption]
    min: float | None
    max: float | None
    integer: bool | None
    max_choices: int | None
    max_length: int | None


CSV_RULE = (
    "In CSV, a text cell (an answer or an attribute) that begins with =, +, -, @, a tab or a carriage return"
    " is written with a ' in front of it, as OWASP advises against CSV (formula) injection: a spreadsheet"
    " would otherwise run it as a formula. A text that begins with ' gets one more, so removing one leading '"
    " from any cell that has one gives back exactly what was stored. Numbers (number and scale answers) are"
    " written as numbers and never get a ': a negative number such as -3 is not a formula, and a ' would"
    " turn it into text. Quotes, commas and line breaks inside a cell are quoted as in any CSV (RFC 4180)."
    " JSON Lines keeps every value exactly as it is published. In both, a free-text answer has its phone"
    " numbers, e-mail addresses and PESEL numbers masked as [phone], [email] and [PESEL]."
)


class DataDictionary(_DictionaryModel):
    campaign: str | None
    name: str
    languages: list[str]
    csv: str = Field(description="How the CSV export writes a text that could start a formula.")
    fields: list[DictionaryField]
    questions: list[DictionaryQuestion]


_FIELD_DESCRIPTIONS = {
    "campaign": ("string", "The campaign's slug."),
    "question": ("string", "The question's id (see questions)."),
    "respondent": (
        "string",
        "Pseudonym of the respondent: stable within the campaign, unlinkable across campaigns.",
    ),
    "value": (
        "see questions[].value_type",
        "The answer; in CSV, the keys of a multi answer are joined by |, and a text that could start a formula"
        " gets a ' in front (see csv).",
    ),
    "channel": ("string", "The channel the answer came by: sms, telegram or email."),
    "answered_at": (
        "string (ISO 8601 date-time, UTC)",
        "When the answer was recorded, cut down to the start of its hour (or of its day, if the service is set"
        " so: OUTREACH_ROW_TIME_PRECISION), so that it cannot be matched with a provider's log of who wrote when.",
    ),
    "language": ("string", "The respondent's language when answering: pl, en or uk."),
}

_ATTRIBUTE = (
    "string or null",
    "An allowlisted respondent attribute, as it was when the answer was given; in CSV, a text that could start"
    " a formula gets a ' in front (see csv).",
)

_VALUE_TYPES = {
    "yesno": "string: yes or no",
    "choice": "string: an option key",
    "multi": "array of strings: option keys (CSV: joined by |)",
    "scale": "integer: min to max",
    "text": "string: the answer's text",
}


def _value_type(question: Question) -> str:
    if question.type == "number":
        return "integer" if question.integer else "number"
    return _VALUE_TYPES[question.type]


def _options(question: Question, languages: Sequence[str]) -> list[DictionaryOption]:
    if question.type == "yesno":
        return [
            DictionaryOption(key=key, label={language: YESNO_LABELS[language][key] for language in languages})
            for key in ("yes", "no")
        ]
    if question.type == "scale":
        values = list(question.scale_values())
        ends = {values[0]: question.low, values[-1]: question.high} if values else {}
        options = []
        for value in values:
            end = ends.get(value)
            label = {language: f"{value} - {end[language]}" if end else str(value) for language in languages}
            options.append(DictionaryOption(key=str(value), label=label))
        return options
    return [DictionaryOption(key=option.key, label=dict(option.text)) for option in question.options]


def weight_field(weighting: WeightingRequest) -> DictionaryField:
    """The last column of an export weighted as `weighting` asks."""
    by = ", ".join(weighting.by) if weighting.by else "every dimension of the margins"
    trim = f", capped at {weighting.trim:g} times the mean weight and raked again" if weighting.trim else ""
    collapsed = [
        f"{dimension}={value} with {into}"
        for dimension, pairs in weighting.collapse.items()
        for value, into in pairs.items()
    ]
    together = f"; weighted together as asked: {', '.join(collapsed)}" if collapsed else ""
    return DictionaryField(
        name=WEIGHT,
        type="number, or empty (CSV) / null (JSON Lines)",
        description=f"The respondent's weight to the margins {weighting.margins!r} by {by}{trim}{together}: the"
        " inverse of their inclusion probability (1 when the campaign drew no sample), post-stratified on one"
        " dimension or the margins' joint cells, raked on several; the weights of everyone weighted add up to"
        " their number, so a weight of 2 counts as two respondents. Every answer of a respondent carries the same"
        " weight. Empty (null) for a respondent left out of the weighting: their value of a dimension matches no"
        " value of the margins, or they have none. Sum `weight` instead of counting rows to get weighted shares.",
    )


def data_dictionary_model(
    flow: Campaign,
    attributes: Sequence[str] = (),
    *,
    campaign: str | None = None,
    weighting: WeightingRequest | None = None,
) -> DataDictionary:
    """The dictionary of an export of `attributes`; with `weighting`, of the export weighted so."""
    fields = []
    for name in export_fields(attributes):
        kind, description = _FIELD_DESCRIPTIONS.get(name, _ATTRIBUTE)
        fields.append(DictionaryField(name=name, type=kind, description=description))
    if weighting is not None:
        fields.append(weight_field(weighting))
    questions = [
        DictionaryQuestion(
            id=question.id,
            type=question.type,
            value_type=_value_type(question),
            text=dict(question.text),
            options=_options(question, flow.languages),
            min=question.min if question.type in ("scale", "number") else None,
            max=question.max if question.type in ("scale", "number") else None,
            integer=question.integer if question.type == "number" else None,
            max_choices=question.max_choices if question.type == "multi" else None,
            max_length=question.max_length if question.type == "text" else None,
        )
        for question in flow.questions
    ]
    return DataDictionary(
        campaign=campaign,
        name=flow.name,
        languages=list(flow.languages),
        csv=CSV_RULE,
        fields=fields,
        questions=questions,
    )


def data_dictionary(
    flow: Campaign,
    attributes: Sequence[str] = (),
    *,
    campaign: str | None = None,
    weighting: WeightingRequest | None = None,
) -> dict[str, Any]:
    """The dictionary as JSON-ready data (for `outreach export --dictionary` and the API)."""
    return data_dictionary_model(flow, attributes, campaign=campaign, weighting=weighting).model_dump(mode="json")
