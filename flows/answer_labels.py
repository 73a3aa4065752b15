"""The answers a question offers, labelled in a language, in the order residents saw them (results,
exports and tap acknowledgements all show these labels)."""

from __future__ import annotations

from flows.campaign import Campaign
from flows.model import Question
from flows.texts import YESNO_LABELS


def question_types(flow: Campaign) -> dict[str, str]:
    return {question.id: question.type for question in flow.questions}


def answer_rows(question: Question, language: str) -> list[tuple[str, str]]:
    """(key, label) for every answer a question offers, in the order residents saw them."""
    if question.type == "yesno":
        labels = YESNO_LABELS[language]
        return [("yes", labels["yes"]), ("no", labels["no"])]
    if question.type == "scale":
        values = list(question.scale_values())
        ends = {values[0]: question.low, values[-1]: question.high}
        rows = []
        for value in values:
            end = ends.get(value)
            rows.append((str(value), f"{value} - {end[language]}" if end else str(value)))
        return rows
    return [(option.key, option.text[language]) for option in question.options]
