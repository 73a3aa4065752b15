"""Match a resident's free-text reply to an answer key. Pure; every comparison is on folded words.

Folding removes case and diacritics, and the reply is split into words, so surrounding spaces and
punctuation never matter ("Tak", " TAK ", "tak!", "2)" all compare equal to their bare form).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from flows.model import Question

Words = tuple[str, ...]

_WORD = re.compile(r"\w+")
# Skin tones and the emoji variation selector vary by phone; they never change the meaning.
_EMOJI_NOISE = re.compile("[\U0001f3fb-\U0001f3ff\ufe0f]")
_THUMBS = {"👍": "yes", "👎": "no"}


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return text.replace("ł", "l")  # the one Polish letter without a Unicode decomposition


def words(text: str) -> Words:
    return tuple(_WORD.findall(fold(text)))


def _word_set(*phrases: str) -> dict[Words, None]:
    return dict.fromkeys(words(p) for p in phrases)


# Full words may start a longer reply ("Tak, codziennie"); short forms only count alone.
_YES = {w[0] for w in _word_set("tak", "jasne", "oczywiście", "yes", "yeah", "sure", "так", "ага")}
_NO = {w[0] for w in _word_set("nie", "no", "nope", "ні", "нет")}
_SHORT = {"t": "yes", "y": "yes", "1": "yes", "n": "no", "2": "no"}
# Replies that start like "no" but mean "I don't know".
_DONT_KNOW = _word_set(
    "nie wiem",
    "nie mam pojęcia",
    "nie mam zdania",
    "nie jestem pewien",
    "nie jestem pewna",
    "nie pamiętam",
    "nwm",
    "no idea",
    "no clue",
    "not sure",
    "dont know",
    "don't know",
    "i don't know",
    "idk",
    "не знаю",
    "ні не знаю",
)


def match_answer(question: Question, language: str, reply: str) -> str | None:
    """The option key the reply means (for yesno: "yes"/"no"), or None when it fits nothing."""
    if question.type == "yesno":
        return _match_yesno(reply)
    return _match_choice(question, language, reply)


def _match_yesno(reply: str) -> str | None:
    said = words(reply)
    by_words = _yesno_words(said) if said else None
    if said and by_words is None:
        return None
    thumbs = {_THUMBS[c] for c in _EMOJI_NOISE.sub("", reply) if c in _THUMBS}
    if by_words is not None:
        thumbs.add(by_words)
    return thumbs.pop() if len(thumbs) == 1 else None


def _yesno_words(said: Words) -> str | None:
    if any(said[: len(phrase)] == phrase for phrase in _DONT_KNOW):
        return None
    if len(said) == 1 and said[0] in _SHORT:
        return _SHORT[said[0]]
    first = _full_yesno(said[0])
    # "tak/nie", "yes no": both answers at once.
    if first is None or (len(said) > 1 and _full_yesno(said[1]) not in (None, first)):
        return None
    return first


def _full_yesno(word: str) -> str | None:
    return "yes" if word in _YES else "no" if word in _NO else None


def _phrases(question: Question, index: int, languages: Iterable[str] | None) -> set[Words]:
    option = question.options[index]
    texts = option.text.values() if languages is None else [option.text[lang] for lang in languages]
    found = {words(text) for text in texts}
    if languages is None:
        found |= {words(option.key.replace("_", " ").replace("-", " ")), words(option.key)}
        found |= {words(s) for s in option.synonyms}
    return {phrase for phrase in found if phrase}


def _match_choice(question: Question, language: str, reply: str) -> str | None:
    said = words(reply)
    if not said:
        return None
    options = question.options
    everything = [_phrases(question, i, None) for i in range(len(options))]

    # 1. The whole reply is an option's key, text (any language) or synonym.
    exact = {i for i, phrases in enumerate(everything) if said in phrases}
    if len(exact) > 1:  # the same words in two options: the conversation's language decides
        exact = {
            i for i in exact if language in options[i].text and said in _phrases(question, i, [language])
        }
    if len(exact) == 1:
        return options[exact.pop()].key
    if exact:
        return None

    # 2. The whole reply is an option number ("2", "2)") or letter ("b", "B)").
    if len(said) == 1:
        index = _index_of(said[0], len(options))
        if index is not None:
            return options[index].key

    # 3. The reply mentions exactly one option ("chyba co tydzień"); naming two is ambiguous.
    spans: list[tuple[int, int, int]] = []  # (start, end, option index)
    for i, phrases in enumerate(everything):
        for phrase in phrases:
            spans.extend((start, start + len(phrase), i) for start in _occurrences(said, phrase))
    if said[0].isdigit():  # a leading number counts as naming that option ("2 co miesiąc")
        index = _index_of(said[0], len(options))
        if index is not None:
            spans.append((0, 1, index))
    # A phrase inside a longer phrase of another option ("lighting" in "better lighting") is not a mention.
    kept = {
        i for s, e, i in spans if not any(s2 <= s and e <= e2 and (e2 - s2) > (e - s) for s2, e2, _ in spans)
    }
    return options[kept.pop()].key if len(kept) == 1 else None


def _index_of(token: str, count: int) -> int | None:
    if token.isdecimal():
        number = int(token)
        return number - 1 if 1 <= number <= count else None
    if len(token) == 1 and "a" <= token <= "z":
        index = ord(token) - ord("a")
        return index if index < count else None
    return None


def _occurrences(said: Words, phrase: Words) -> Iterable[int]:
    size = len(phrase)
    return (start for start in range(len(said) - size + 1) if said[start : start + size] == phrase)
