"""The options of a question as a resident of a language sees them (yes/no shown as "tak"/"nie")."""

from __future__ import annotations

from channels.base import Choice
from flows.campaign import Campaign


def shown_choices(flow: Campaign, question_id: str, language: str) -> list[Choice]:
    question = flow.question(question_id)
    if question.type == "yesno":
        return [Choice("yes", "tak"), Choice("no", "nie")]
    return [Choice(option.key, option.text[language]) for option in question.options]
