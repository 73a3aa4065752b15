"""What a resident's free-text reply means for a question: one normalised value per question type.

Pure. Every comparison is made on folded words (`flows.folding`), so case, Latin diacritics,
surrounding spaces and punctuation never matter ("Tak", " TAK ", "tak!", "2)").

Bounded: `match_reply` looks at no more than MAX_MATCHED_LENGTH characters of a reply (a text
question's answer excepted: it keeps up to its own max_length), a number of more than
`flows.numbers.MAX_DIGITS` digits is no answer, and no pattern backtracks on a long run of one character.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from flows.folding import fold, words
from flows.model import AnswerValue, Question
from flows.numbers import Number, numbers_in, whole, whole_number
from flows.options import match_choice, match_multi
from flows.yesno import EMOJI_NOISE, match_yesno

__all__ = ["MAX_MATCHED_LENGTH", "Answer", "fold", "match_answer", "match_reply"]

# The most of a reply that is matched against a yesno, choice, multi, scale or number question. The
# answers are a word, a number or an option's few words, perhaps inside a sentence ("chyba co
# tydzień, bo mam blisko"): 500 characters is three SMS segments, far more than any of them needs.
# A longer reply (an email, a pasted text, a flood) is matched on its beginning, cut back to a space
# so that no word or number is split ("12345" cut after "12" is no 12). Folding may lengthen that
# (NFKD makes up to 18 characters of one), so every matcher works on a few thousand at most.
MAX_MATCHED_LENGTH = 500

_STARS = frozenset("⭐★🌟")
# "4/5": a rating out of the scale's top. Linear: the lookbehind starts a number only at its first
# digit and the possessive quantifiers never give digits back (a quadratic search took 22 s on a
# 40,000-digit reply).
_OUT_OF = re.compile(r"(-?(?<!\d)\d++)\s*+/\s*+(\d++)")


@dataclass(frozen=True)
class Answer:
    """A reply that fits the question. `value`: the option key (yesno: "yes"/"no", choice), the
    option keys in option order (multi), an int (scale), an int or float (number), the text (text)."""

    value: AnswerValue


def match_reply(question: Question, language: str, reply: str) -> Answer | None:
    """The answer the reply gives, or None when it fits nothing (the caller may ask again)."""
    if question.type == "text":
        return _answer(_match_text(question, reply))
    reply = _beginning(reply)
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
    return _answer(value)


def _answer(value: AnswerValue | None) -> Answer | None:
    return None if value is None else Answer(value)


def _beginning(reply: str) -> str:
    """At most MAX_MATCHED_LENGTH characters of the reply from its first non-space, ending at a space."""
    text = reply.lstrip()
    if len(text) <= MAX_MATCHED_LENGTH:
        return text
    head = text[:MAX_MATCHED_LENGTH]
    if text[MAX_MATCHED_LENGTH].isspace():
        return head
    # The limit falls inside a word or number: leave it out whole (all of it when there is no space).
    end = len(head)
    while end and not head[end - 1].isspace():
        end -= 1
    return head[:end]


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
        if whole_number(out_of[2]) != values[-1]:
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
    if not math.isfinite(number):
        return None  # more digits than any answer has (`flows.numbers.MAX_DIGITS`)
    as_int = whole(number)
    if question.integer and as_int is None:
        return None
    if (question.min is not None and number < question.min) or (question.max is not None and number > question.max):
        return None
    return as_int if as_int is not None else number


def _match_text(question: Question, reply: str) -> str | None:
    """The reply, its surrounding spaces off, cut to the question's own max_length (not to
    MAX_MATCHED_LENGTH: a free text may be longer than any micro-answer); linear in the reply."""
    text = reply.lstrip()[: question.max_length].rstrip()
    return text or None
