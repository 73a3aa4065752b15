"""Which option(s) a reply names: by text in any language, key, synonym, number ("2", "2)") or letter.

`match_choice` wants exactly one option; `match_multi` collects several ("1,3", "a, c", "ławki i
oświetlenie"), in option order and without duplicates.
"""

from __future__ import annotations

from collections.abc import Iterable

from flows.folding import Words, words
from flows.model import Question
from flows.numbers import whole_number

# Words that join several answers ("1 i 3", "1 and 3"); between option numbers they are dropped.
_CONNECTORS = frozenset({"i", "oraz", "and", "plus", "і", "та", "й"})


def _phrases(question: Question, index: int, languages: Iterable[str] | None) -> set[Words]:
    """The word sequences naming an option: its text (in `languages`, or all of them with key and
    synonyms when None)."""
    option = question.options[index]
    texts = option.text.values() if languages is None else [option.text[lang] for lang in languages]
    found = {words(text) for text in texts}
    if languages is None:
        found |= {words(option.key.replace("_", " ").replace("-", " ")), words(option.key)}
        found |= {words(s) for s in option.synonyms}
    return {phrase for phrase in found if phrase}


def _in_language(question: Question, indices: set[int], said: Words, language: str) -> set[int]:
    """Of options sharing the same words, those whose text in the conversation's language it is."""
    return {i for i in indices if language in question.options[i].text and said in _phrases(question, i, [language])}


def _index_of(token: str, count: int) -> int | None:
    """ "2" -> 1, "b" -> 1; None when the token is no option number or letter."""
    if token.isdecimal():
        number = whole_number(token)
        return number - 1 if number is not None and 1 <= number <= count else None
    if len(token) == 1 and "a" <= token <= "z":
        index = ord(token) - ord("a")
        return index if index < count else None
    return None


def _occurrences(said: Words, phrase: Words) -> Iterable[int]:
    size = len(phrase)
    return (start for start in range(len(said) - size + 1) if said[start : start + size] == phrase)


def match_choice(question: Question, language: str, reply: str) -> str | None:
    said = words(reply)
    if not said:
        return None
    options = question.options
    everything = [_phrases(question, i, None) for i in range(len(options))]

    # 1. The whole reply is an option's key, text (any language) or synonym.
    exact = {i for i, phrases in enumerate(everything) if said in phrases}
    if len(exact) > 1:  # the same words in two options: the conversation's language decides
        exact = _in_language(question, exact, said, language)
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
    inside = _inside_longer({(start, end) for start, end, _ in spans})
    kept = {i for start, end, i in spans if (start, end) not in inside}
    return options[kept.pop()].key if len(kept) == 1 else None


def _inside_longer(spans: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """The spans (start, end) that lie within a longer one; sorted once rather than compared pairwise,
    as a reply repeating an option's words has a span at almost every word."""
    inside: set[tuple[int, int]] = set()
    reach = -1  # the furthest end of the spans starting before, or at the same start and ending later
    for start, end in sorted(spans, key=lambda span: (span[0], -span[1])):
        if reach >= end:
            inside.add((start, end))
        reach = max(reach, end)
    return inside


def match_multi(question: Question, language: str, reply: str) -> list[str] | None:
    said = words(reply)
    refs = [w for w in said if w not in _CONNECTORS]
    count = len(question.options)
    if not refs:
        return None
    if all(w.isdecimal() or len(w) == 1 for w in refs):
        # Only numbers and letters ("1,3", "a c", "1 i 3"): each must name an option.
        found = [_index_of(w, count) for w in refs]
        if any(i is None for i in found):
            return None
        chosen = {i for i in found if i is not None}
    else:
        # Connectors stay: an option's own text may hold one ("ławki i stoły").
        named = _named_in_words(question, language, said)
        if named is None:
            return None
        chosen = named
    if not chosen or (question.max_choices is not None and len(chosen) > question.max_choices):
        return None
    return [question.options[i].key for i in sorted(chosen)]


def _named_in_words(question: Question, language: str, said: Words) -> set[int] | None:
    """Options named in a reply with words, read left to right taking the longest phrase at each
    place; other words are filler. None when a number names no option ("1, 7" of five)."""
    everything = [_phrases(question, i, None) for i in range(len(question.options))]
    chosen: set[int] = set()
    at = 0
    while at < len(said):
        size, named = _longest_phrase_at(everything, said, at)
        if named:
            if len(named) > 1:
                named = _in_language(question, named, said[at : at + size], language)
            if len(named) != 1:
                return None  # the same words name two options
            chosen |= named
            at += size
            continue
        if said[at].isdecimal():
            index = _index_of(said[at], len(question.options))
            if index is None:
                return None
            chosen.add(index)
        at += 1
    return chosen


def _longest_phrase_at(everything: list[set[Words]], said: Words, at: int) -> tuple[int, set[int]]:
    best, named = 0, set[int]()
    for i, phrases in enumerate(everything):
        for phrase in phrases:
            if len(phrase) >= best and said[at : at + len(phrase)] == phrase:
                if len(phrase) > best:
                    best, named = len(phrase), set()
                named.add(i)
    return best, named
