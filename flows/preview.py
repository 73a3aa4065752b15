"""Every message a campaign can send, per language, as the engine would word it: what an official
checks before launch (length, cost, tone), without running a conversation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from flows.answer_labels import answer_rows
from flows.campaign import Campaign
from flows.engine import Ask, FlowState, Say, ask_again, ask_question, remind, start
from flows.explanation import Explanation
from flows.results_back import (
    ANSWER,
    DISTRICT,
    DISTRICT_SHARE,
    PREVIEW_DISTRICT,
    SHARE,
    compose,
    question_ids,
    value_key,
)

# The engine takes a time for its contract; wording never depends on it.
_ANY_TIME = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class PreviewMessage:
    label: str  # what the message is, e.g. "first message", "rating", "rating (re-ask)"
    message: Ask | Say
    explanation: Explanation | None = None  # the label's template and question id, for translated pages

    @classmethod
    def labelled(cls, label: Explanation, message: Ask | Say) -> PreviewMessage:
        return cls(label.text, message, label)


def every_message(flow: Campaign, language: str) -> list[PreviewMessage]:
    first = flow.first_question()
    [opening] = start(flow, language, _ANY_TIME).effects
    assert isinstance(opening, Ask)
    messages = [
        PreviewMessage.labelled(
            Explanation("first_message", "%(id)s (first message, with the intro)", {"id": first.id}), opening
        )
    ]
    for question in flow.questions[1:]:
        messages.append(PreviewMessage(question.id, ask_question(question, language, 0)))
    if flow.reask_unclear:
        for question in flow.questions:
            messages.append(
                PreviewMessage.labelled(
                    Explanation("reask", "%(id)s (re-ask)", {"id": question.id}), ask_again(question, language, 1)
                )
            )
    if flow.schedule.reminders:
        reminder = remind(flow, FlowState(question_id=first.id, language=language), 1)
        assert reminder is not None
        messages.append(
            PreviewMessage.labelled(Explanation("reminder", "%(id)s (reminder)", {"id": first.id}), reminder)
        )
    if flow.outro is not None:
        messages.append(PreviewMessage("outro", Say("outro", flow.outro[language])))
    if flow.results_back is not None:
        messages.append(
            PreviewMessage.labelled(
                Explanation("results_back", RESULTS_BACK_LABEL),
                Say("results_back", results_back_preview(flow, language)),
            )
        )
    return messages


RESULTS_BACK_LABEL = "results back (after close, to respondents)"


def results_back_preview(flow: Campaign, language: str) -> str:
    """The results-back message at its longest: each question's longest answer at 100%, the district's
    sentence with a long district name, and the unweighted note when the campaign has no margins."""
    assert flow.results_back is not None
    values = {value_key(DISTRICT): PREVIEW_DISTRICT}
    for question_id in question_ids(flow.results_back):
        labels = [label for _, label in answer_rows(flow.question(question_id), language)]
        values[value_key(ANSWER, question_id)] = max(labels, key=len)
        values[value_key(SHARE, question_id)] = values[value_key(DISTRICT_SHARE, question_id)] = "100%"
    sample = flow.audience.sample
    weighted = sample is not None and sample.margins is not None
    return compose(flow.results_back, language, values, district=True, weighted=weighted)
