"""The pure conversation engine: (campaign, state, reply) -> new state + effects for the caller.

No I/O and no clock reads: the caller sends, stores and times. Keywords such as STOP and HELP are
the caller's job too; by the time a reply reaches `resume` it is meant as an answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from flows.matching import match_answer
from flows.model import END, Campaign, Question
from flows.texts import REASK_HINTS, YESNO_LABELS


class FlowState(BaseModel):
    """Where one resident is in one campaign; stored as JSON between replies."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    question_id: str | None
    reasks: int = 0
    language: str
    done: bool = False


@dataclass(frozen=True)
class Choice:
    key: str
    label: str


@dataclass(frozen=True)
class Ask:
    """Send a question; `attempt` is 0 for the first ask, 1.. for re-asks.

    (question_id, attempt) is what the caller's idempotency key is made of.
    """

    question_id: str
    attempt: int
    text: str
    choices: tuple[Choice, ...]


@dataclass(frozen=True)
class Record:
    """Store an answer; `value=None` means the question ended unanswered."""

    question_id: str
    value: str | None
    raw: str | None


@dataclass(frozen=True)
class Say:
    """Send a message that is not a question (the outro)."""

    key: str
    text: str


@dataclass(frozen=True)
class Complete:
    """The conversation is over."""


Effect = Ask | Record | Say | Complete


@dataclass(frozen=True)
class Step:
    state: FlowState
    effects: tuple[Effect, ...]


def start(flow: Campaign, language: str, now: datetime) -> Step:
    # `now` is part of the contract for answer_within/timeouts, which are not built yet.
    lang = language if language in flow.languages else flow.default_language
    first = flow.first_question()
    ask = _ask(first, lang, attempt=0)
    if flow.intro is not None:
        ask = Ask(ask.question_id, 0, f"{flow.intro[lang]}\n\n{ask.text}", ask.choices)
    return Step(FlowState(question_id=first.id, language=lang), (ask,))


def resume(flow: Campaign, state: FlowState, reply: str, now: datetime) -> Step:
    if state.done or state.question_id is None:
        return Step(state, ())
    question = flow.question(state.question_id)
    value = match_answer(question, state.language, reply)
    if value is not None:
        return _advance(flow, state, Record(question.id, value, reply), flow.next_id(question, value))
    if state.reasks < flow.reask_unclear:
        attempt = state.reasks + 1
        hint = REASK_HINTS[state.language][question.type]
        ask = _ask(question, state.language, attempt)
        reask = Ask(ask.question_id, attempt, f"{hint}\n{ask.text}", ask.choices)
        return Step(state.model_copy(update={"reasks": attempt}), (reask,))
    # Out of re-asks: unanswered, and an unknown answer cannot pick a branch, so take the default path.
    return _advance(flow, state, Record(question.id, None, reply), flow.default_next(question))


def _advance(flow: Campaign, state: FlowState, record: Record, next_id: str) -> Step:
    if next_id == END:
        effects: list[Effect] = [record]
        if flow.outro is not None:
            effects.append(Say("outro", flow.outro[state.language]))
        effects.append(Complete())
        return Step(FlowState(question_id=None, language=state.language, done=True), tuple(effects))
    ask = _ask(flow.question(next_id), state.language, attempt=0)
    return Step(FlowState(question_id=next_id, language=state.language), (record, ask))


def _ask(question: Question, language: str, attempt: int) -> Ask:
    return Ask(question.id, attempt, question.text[language], _choices(question, language))


def _choices(question: Question, language: str) -> tuple[Choice, ...]:
    if question.type == "yesno":
        labels = YESNO_LABELS[language]
        return (Choice("yes", labels["yes"]), Choice("no", labels["no"]))
    return tuple(Choice(o.key, o.text[language]) for o in question.options)
