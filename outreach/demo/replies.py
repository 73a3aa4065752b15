"""How a simulated resident answers a question: the ways people write an option (words, numbers,
hedges, no diacritics), the mistypes that fit nothing, and which reply each persona sends, if any."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from channels.base import Choice
from flows.folding import strip_marks
from flows.model import Question
from outreach.demo.residents import Persona, SimResident

# Made-up opinions for the example's option keys; keys of another campaign weigh 1.
OPINIONS = {
    "yes": 3.0,
    "no": 2.0,
    "lighting": 4.0,
    "benches": 2.0,
    "playground": 3.0,
    "cleanliness": 3.0,
    "too_far": 2.0,
    "no_time": 4.0,
    "unsafe": 3.0,
    "didnt_know": 2.0,
}

# How people really answer: every one of these must mean its option (tests/outreach/demo/test_replies.py).
YESNO_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "pl": {"yes": ("tak", "Tak", "TAK", "t", "tak!", "👍"), "no": ("nie", "Nie", "NIE", "n", "nie.")},
    "en": {"yes": ("yes", "Yes", "y", "yeah", "👍"), "no": ("no", "No", "nope")},
    "uk": {"yes": ("так", "Так", "ТАК"), "no": ("ні", "Ні")},
}
HEDGES = {"pl": "chyba {}", "en": "maybe {}", "uk": "мабуть {}"}
# Replies that fit nothing, so the service asks again; each must match no option (tested too).
MISTYPES_COMMON = ("eee?", "hmm", "?", "...")
MISTYPES_BY_LANGUAGE = {
    "pl": ("co?", "nie wiem", "a co to?"),
    "en": ("what?", "dunno"),
    "uk": ("шо?", "не знаю"),
}
TYPOS = {"yesno": ("tk", "nei", "yse"), "choice": ("7", "0")}


def answer_variants(language: str, question_type: str, number: int, choice: Choice) -> list[str]:
    """Ways a person writes the option shown as `number) choice.label`."""
    if question_type == "yesno":
        return [*YESNO_WORDS.get(language, YESNO_WORDS["en"])[choice.key], str(number)]
    label = choice.label
    variants = [str(number), f"{number})", label, label.upper(), label.capitalize()]
    variants.append(HEDGES.get(language, "{}").format(label))
    if language == "pl":
        variants.append(strip_marks(label))
    return variants


def _numbered(variant: str) -> bool:
    return variant.removesuffix(")").isdecimal()


def mistypes(language: str, question_type: str) -> list[str]:
    return [*MISTYPES_COMMON, *MISTYPES_BY_LANGUAGE.get(language, ()), *TYPOS.get(question_type, ())]


@dataclass(frozen=True)
class Reply:
    """What a resident sends back: the text they type, and the option they mean (its index among the
    choices offered) when they mean one, so that on Telegram they may tap its button instead."""

    text: str
    choice: int | None = None


def reply_to(
    resident: SimResident,
    question: Question,
    attempt: int,
    choices: Sequence[Choice],
    *,
    first: bool,
    reminder: bool = False,
    numbered: bool = True,
) -> Reply | None:
    """What the resident sends back to this question, or None for silence. `numbered`: the options
    were shown with numbers (an SMS), so a number is a way to answer; Telegram shows buttons."""
    persona, rng = resident.persona, resident.rng
    if persona is Persona.SILENT or (persona is Persona.DROPS_OUT and not first):
        return None
    if persona is Persona.LATE and first and not reminder:
        return None  # the first message went unnoticed; the reminder gets an answer
    if persona is Persona.STOPS:
        return Reply("STOP") if first else None
    if persona is Persona.MISTYPES and _mistypes_now(rng, attempt, first=first):
        return Reply(rng.choice(mistypes(resident.language, question.type)))
    if not choices:
        return None
    index = rng.choices(range(len(choices)), weights=[OPINIONS.get(c.key, 1.0) for c in choices])[0]
    variants = answer_variants(resident.language, question.type, index + 1, choices[index])
    if not numbered:
        variants = [variant for variant in variants if not _numbered(variant)] or variants
    return Reply(rng.choice(variants), index)


def _mistypes_now(rng: random.Random, attempt: int, *, first: bool) -> bool:
    # The opening question is always mistyped once, so every mistyper shows a re-ask; a re-ask is
    # mostly answered properly, and a second miss leaves the question unanswered.
    if attempt == 0:
        return first or rng.random() < 0.4
    return rng.random() < 0.25
