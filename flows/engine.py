"""The pure conversation engine: (campaign, state, reply) -> new state + effects for the caller.

No I/O and no clock reads: the caller sends, stores and times. Keywords such as STOP and HELP are
the caller's job too; by the time a reply reaches `resume` it is meant as an answer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from flows.campaign import Campaign
from flows.matching import match_reply
from flows.model import END, AnswerValue, Question, QuestionType
from flows.texts import YESNO_LABELS, multi_hint, reask_hint, reminder_prefix, submit_label


class FlowState(BaseModel):
    """Where one resident is in one campaign; stored as JSON between replies."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    question_id: str | None
    reasks: int = 0
    language: str
    done: bool = False
    selected: tuple[str, ...] = ()  # options of a multi question picked one tap at a time, not yet sent


@dataclass(frozen=True)
class Choice:
    key: str
    label: str


@dataclass(frozen=True)
class Ask:
    """Send a question; `attempt` is 0 for the first ask, 1.. for re-asks.

    (question_id, attempt) is what the caller's idempotency key is made of. `choices` are the
    options (yesno, choice, multi) or the values of a scale, whose keys are the values themselves
    ("1".."5"): shown as numbered lines they would mislead on a 0..10 scale. Number and text
    questions have none. `reminder` is 0, or 1.. for the n-th reminder of an unanswered question
    (see `remind`). `question_type` lets a channel pick its widget; None only when built by hand.
    """

    question_id: str
    attempt: int
    text: str
    choices: tuple[Choice, ...]
    question_type: QuestionType | None = None
    reminder: int = 0
    submit_label: str | None = None  # multi: the "done" button, where a channel offers taps
    selected: tuple[str, ...] = ()  # multi: options already picked by taps, shown ticked when asked again


@dataclass(frozen=True)
class Record:
    """Store an answer; `value=None` means the question ended unanswered.

    `value` is JSON-ready: an option key (yesno, choice), a list of option keys (multi), an int
    (scale), an int or float (number) or the text (text); see `flows.matching.Answer`.
    """

    question_id: str
    value: AnswerValue | None
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
    # `now` is part of the contract for timeouts; answer_within counts from when a message is
    # actually sent (after quiet hours), which only the caller knows.
    lang = language if language in flow.languages else flow.default_language
    first = flow.first_question()
    ask = ask_question(first, lang, attempt=0)
    opening = [text[lang] for text in (flow.intro, flow.privacy_notice) if text is not None]
    if opening:  # the intro, then who processes the answers: the question comes last, to be answered
        ask = replace(ask, text="\n".join(opening) + f"\n\n{ask.text}")
    return Step(FlowState(question_id=first.id, language=lang), (ask,))


def resume(flow: Campaign, state: FlowState, reply: str, now: datetime) -> Step:
    if state.done or state.question_id is None:
        return Step(state, ())
    question = flow.question(state.question_id)
    answer = match_reply(question, state.language, reply)
    if answer is not None:
        record = Record(question.id, answer.value, reply)
        return _advance(flow, state, record, flow.next_id(question, answer.value))
    if state.reasks < flow.reask_unclear:
        attempt = state.reasks + 1
        reask = replace(ask_again(question, state.language, attempt), selected=state.selected)
        return Step(state.model_copy(update={"reasks": attempt}), (reask,))
    # Out of re-asks: unanswered, and an unknown answer cannot pick a branch, so take the default path.
    return _advance(flow, state, Record(question.id, None, reply), flow.default_next(question))


@dataclass(frozen=True)
class Toggled:
    """The result of a tap on a multi question's option: the new state, and what it did."""

    state: FlowState
    option: Choice
    picked: bool  # the option is now picked (False: unpicked)
    refused: bool = False  # picking it would go over max_choices: nothing changed


def toggle(flow: Campaign, state: FlowState, number: int) -> Toggled | None:
    """Pick or unpick option `number` (1-based) of the multi question being asked; None when no
    multi question is being asked or it has no such option. Nothing is recorded until `submit`."""
    if state.done or state.question_id is None:
        return None
    question = flow.question(state.question_id)
    if question.type != "multi" or not 1 <= number <= len(question.options):
        return None
    option = question.options[number - 1]
    choice = Choice(option.key, option.text[state.language])
    if option.key in state.selected:
        remaining = tuple(key for key in state.selected if key != option.key)
        return Toggled(state.model_copy(update={"selected": remaining}), choice, picked=False)
    if question.max_choices is not None and len(state.selected) >= question.max_choices:
        return Toggled(state, choice, picked=False, refused=True)
    keys = [o.key for o in question.options]
    picked = sorted((*state.selected, option.key), key=keys.index)  # in the options' order
    return Toggled(state.model_copy(update={"selected": tuple(picked)}), choice, picked=True)


def submit(flow: Campaign, state: FlowState, now: datetime) -> Step | None:
    """The "done" of a multi question answered by taps: the picked options, as if typed ("1,3");
    None when nothing is picked (or no multi question is being asked)."""
    if state.done or state.question_id is None or not state.selected:
        return None
    question = flow.question(state.question_id)
    if question.type != "multi":
        return None
    keys = [o.key for o in question.options]
    numbers = ",".join(str(keys.index(key) + 1) for key in state.selected if key in keys)
    return resume(flow, state, numbers, now)


def remind(flow: Campaign, state: FlowState, number: int) -> Ask | None:
    """The `number`-th reminder (1..) of the question the resident has not answered; None when the
    conversation is over. The state does not change: the caller counts and times reminders."""
    if state.done or state.question_id is None:
        return None
    ask = ask_question(flow.question(state.question_id), state.language, state.reasks)
    text = f"{reminder_prefix(state.language)}\n{ask.text}"
    return replace(ask, text=text, reminder=number, selected=state.selected)


def ask_again(question: Question, language: str, attempt: int) -> Ask:
    """The re-ask of a question whose reply fitted nothing: a hint of what fits, then the question."""
    ask = ask_question(question, language, attempt)
    return replace(ask, text=f"{reask_hint(question, language)}\n{ask.text}")


def _advance(flow: Campaign, state: FlowState, record: Record, next_id: str) -> Step:
    if next_id == END:
        effects: list[Effect] = [record]
        if flow.outro is not None:
            effects.append(Say("outro", flow.outro[state.language]))
        effects.append(Complete())
        return Step(FlowState(question_id=None, language=state.language, done=True), tuple(effects))
    ask = ask_question(flow.question(next_id), state.language, attempt=0)
    return Step(FlowState(question_id=next_id, language=state.language), (record, ask))


def ask_question(question: Question, language: str, attempt: int) -> Ask:
    text = question.text[language]
    done_label = None
    if question.type == "multi":
        text = f"{text}\n{multi_hint(question, language)}"
        done_label = submit_label(language)
    return Ask(question.id, attempt, text, _choices(question, language), question.type, submit_label=done_label)


def _choices(question: Question, language: str) -> tuple[Choice, ...]:
    match question.type:
        case "yesno":
            labels = YESNO_LABELS[language]
            return (Choice("yes", labels["yes"]), Choice("no", labels["no"]))
        case "choice" | "multi":
            return tuple(Choice(o.key, o.text[language]) for o in question.options)
        case "scale":
            return tuple(Choice(str(v), _scale_label(question, v, language)) for v in question.scale_values())
        case _:
            return ()


def _scale_label(question: Question, value: int, language: str) -> str:
    """ "1 - bardzo źle" at a labelled end, the bare number elsewhere. A hyphen, not a dash: a dash is
    not in GSM-7 and would make an English SMS cost UCS-2 rates."""
    ends = {question.min: question.low, question.max: question.high}
    label = ends.get(value)
    return f"{value} - {label[language]}" if label is not None else str(value)
