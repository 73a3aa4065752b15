"""What a resident's free-text reply means for a question: one normalised value per question type.

Pure. Every comparison is made on folded words (`flows.folding`), so case, Latin diacritics,
surrounding spaces and punctuation never matter ("Tak", " TAK ", "tak!", "2)").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flows.folding import fold, words
from flows.model import AnswerValue, Question
from flows.numbers import Number, numbers_in, whole
from flows.options import match_choice, match_multi
from flows.yesno import EMOJI_NOISE, match_yesno

__all__ = ["Answer", "fold", "match_answer", "match_reply"]

_STARS = frozenset("⭐★🌟")
_OUT_OF = re.compile(r"(-?\d+)\s*/\s*(\d+)")  # "4/5": a rating out of the scale's top


@dataclass(frozen=True)
class Answer:
    """A reply that fits the question. `value`: the option key (yesno: "yes"/"no", choice), the
    option keys in option order (multi), an int (scale), an int or float (number), the text (text)."""

    value: AnswerValue


def match_reply(question: Question, language: str, reply: str) -> Answer | None:
    """The answer the reply gives, or None when it fits nothing (the caller may ask again)."""
    value: AnswerValue | None
    match question.type:
        case "yesno":
            value = match_yesno(reply)
        case "choice":
            value = match_choice(question, language, reply)
        case "multi":
            value = match_multi(question, language, reply)
        case "scale":
            value = _match_scale(question, reply)
        case "number":
            value = _match_number(question, reply)
        case "text":
            value = _match_text(question, reply)
    return None if value is None else Answer(value)


def match_answer(question: Question, language: str, reply: str) -> str | None:
    """The option key a reply to a yesno or choice question means (yesno: "yes"/"no"), or None.

    Kept for callers that only deal with single-option questions; `match_reply` covers every type.
    """
    if question.type not in ("yesno", "choice"):
        raise TypeError(f"match_answer is for yesno and choice; use match_reply for {question.type}")
    answer = match_reply(question, language, reply)
    return None if answer is None else str(answer.value)


def _match_scale(question: Question, reply: str) -> int | None:
    values = question.scale_values()
    if not values:
        return None
    text = fold(reply)
    out_of = _OUT_OF.search(text)
    if out_of is not None:
        if int(out_of[2]) != values[-1]:
            return None  # "8/10" on a 1..5 scale: a different scale
        text = text[: out_of.start()] + out_of[1] + text[out_of.end() :]
    found = numbers_in(text)
    if len(found) > 1:
        return None
    value = whole(found[0]) if found else _stars(text) or _label_end(question, text)
    return value if value is not None and value in values else None


def _stars(text: str) -> int | None:
    """ "⭐⭐⭐⭐" -> 4, when the reply is stars and nothing else."""
    text = EMOJI_NOISE.sub("", text)
    stars = sum(1 for c in text if c in _STARS)
    rest = "".join(c for c in text if c not in _STARS).strip()
    return stars if stars and not rest else None


def _label_end(question: Question, text: str) -> int | None:
    """The scale's end whose label (in any language) the reply repeats: "bardzo źle" -> min."""
    said = words(text)
    for label, value in ((question.low, question.min), (question.high, question.max)):
        if label is not None and said and any(said == words(t) for t in label.values()):
            return int(value) if value is not None else None
    return None


def _match_number(question: Question, reply: str) -> Number | None:
    found = numbers_in(reply)
    if len(found) != 1:
        return None
    number = found[0]
    as_int = whole(number)
    if question.integer and as_int is None:
        return None
    if (question.min is not None and number < question.min) or (question.max is not None and number > question.max):
        return None
    return as_int if as_int is not None else number


def _match_text(question: Question, reply: str) -> str | None:
    text = reply.strip()
    return text[: question.max_length] if text else None
