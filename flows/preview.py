"""Every message a campaign can send, per language, as the engine would word it: what an official
checks before launch (length, cost, tone), without running a conversation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from flows.campaign import Campaign
from flows.engine import Ask, FlowState, Say, ask_again, ask_question, remind, start

# The engine takes a time for its contract; wording never depends on it.
_ANY_TIME = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class PreviewMessage:
    label: str  # what the message is, e.g. "first message", "rating", "rating (re-ask)"
    message: Ask | Say


def every_message(flow: Campaign, language: str) -> list[PreviewMessage]:
    first = flow.first_question()
    [opening] = start(flow, language, _ANY_TIME).effects
    assert isinstance(opening, Ask)
    messages = [PreviewMessage(f"{first.id} (first message, with the intro)", opening)]
    for question in flow.questions[1:]:
        messages.append(PreviewMessage(question.id, ask_question(question, language, 0)))
    if flow.reask_unclear:
        for question in flow.questions:
            messages.append(PreviewMessage(f"{question.id} (re-ask)", ask_again(question, language, 1)))
    if flow.schedule.reminders:
        reminder = remind(flow, FlowState(question_id=first.id, language=language), 1)
        assert reminder is not None
        messages.append(PreviewMessage(f"{first.id} (reminder)", reminder))
    if flow.outro is not None:
        messages.append(PreviewMessage("outro", Say("outro", flow.outro[language])))
    return messages
