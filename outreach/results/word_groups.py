"""Free-text answers grouped by the words they share (pure): what an official reads instead of a
thousand answers one by one.

Each answer becomes a set of word stems: letters only, stop words of Polish, English and Ukrainian
dropped (whatever the answer's language: residents mix them), Polish and English inflections folded
by Snowball's stemmers (ławki, ławek, ławkach → one stem), Ukrainian words by their prefix (there is no
Snowball stemmer for it), diacritics folded after stemming so "lawki" typed on a phone meets "ławki".
Then, greedily, the stem most answers share makes a group of those answers, which leave the pool; and
again, until no stem is shared by two answers left. Every answer is in one group or among the ungrouped,
so the counts add up to the answers.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache

import snowballstemmer
from stop_words import get_stop_words

from flows.folding import fold
from outreach.privacy.scrubber import MASKS

EXAMPLES = 3
MAX_GROUPS = 20
MIN_WORD = 3  # shorter words (w, na, to, ok) say little on their own
MIN_STEM = 3  # a stem cut shorter than this (kosze → ko) falls back to the word's prefix
STEMS_KEPT = 100_000  # distinct (word, language) stems kept between groupings
UKRAINIAN_PREFIX = 6  # a Ukrainian word is folded to at most this many letters, and at least 4
_WORD = re.compile(r"[^\W\d_]+")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_STOP_LANGUAGES = ("polish", "english", "ukrainian")
# The lists are broad (adverbs and adjectives too); these carry the theme of many consultation answers.
_KEPT = frozenset(
    {"far", "near", "new", "old", "big", "small", "time", "daleko", "blisko", "nowe", "stare", "далеко", "час"}
)


@dataclass(frozen=True)
class TextAnswer:
    text: str  # as the resident wrote it, already scrubbed of personal data
    language: str  # the resident's language when answering (pl, en, uk)


@dataclass(frozen=True)
class WordGroup:
    word: str  # the stem's most common form as residents wrote it
    count: int
    examples: tuple[str, ...]  # up to EXAMPLES answers, in the order given
    forms: tuple[str, ...] = ()  # other forms of the word that were folded into it, most common first


@dataclass(frozen=True)
class Grouping:
    answered: int
    groups: tuple[WordGroup, ...]
    ungrouped: int = 0  # answers that share no word with another (or came after MAX_GROUPS groups)
    ungrouped_examples: tuple[str, ...] = field(default=())


@cache
def _stop_words() -> frozenset[str]:
    words = {word.casefold() for language in _STOP_LANGUAGES for word in get_stop_words(language)}
    words -= _KEPT
    return frozenset(words | {fold(word) for word in words})


@cache
def _stemmer(language: str) -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer(language)


@lru_cache(maxsize=STEMS_KEPT)
def stem(word: str, language: str) -> str:
    """The form inflections of `word` share (lower case, Latin diacritics folded). Kept: answers repeat
    their words, and Snowball's stemmer was nearly all the time grouping took (bench/campaign_page.py)."""
    lower = word.casefold()
    if _CYRILLIC.search(lower):
        return lower[: max(4, min(UKRAINIAN_PREFIX, len(lower) - 2))]
    stemmed = _stemmer("english" if language == "en" else "polish").stemWord(lower)
    if len(stemmed) < MIN_STEM:
        stemmed = lower[:4]
    return fold(stemmed)


def content_words(text: str, language: str) -> dict[str, str]:
    """Stem → the word as written (lower case), for the words of `text` that are not stop words."""
    found: dict[str, str] = {}
    for mask in MASKS:  # "[phone]" stands for what was there: no word residents share
        text = text.replace(mask, " ")
    for word in _WORD.findall(text):
        lower = word.casefold()
        if len(lower) < MIN_WORD or lower in _stop_words():
            continue
        found.setdefault(stem(lower, language), lower)
    return found


def group_answers(answers: Sequence[TextAnswer], *, max_groups: int = MAX_GROUPS) -> Grouping:
    """Answers grouped by their most shared word, the largest group first."""
    words = [content_words(answer.text, answer.language) for answer in answers]
    pool = [index for index, found in enumerate(words) if found]
    wordless = [index for index, found in enumerate(words) if not found]
    groups: list[WordGroup] = []
    while pool and len(groups) < max_groups:
        shared = Counter(stem for index in pool for stem in words[index])
        # The most shared stem; among equals the one met first, so the grouping is the same every run.
        best, count = max(shared.items(), key=lambda item: item[1]) if shared else ("", 0)
        if count < 2:
            break
        members = [index for index in pool if best in words[index]]
        forms = Counter(words[index][best] for index in members)
        ordered = [form for form, _ in forms.most_common()]
        groups.append(
            WordGroup(
                word=ordered[0],
                count=len(members),
                examples=tuple(answers[index].text for index in members[:EXAMPLES]),
                forms=tuple(ordered[1:]),
            )
        )
        taken = set(members)
        pool = [index for index in pool if index not in taken]
    rest = sorted(pool + wordless)
    return Grouping(
        answered=len(answers),
        groups=tuple(groups),
        ungrouped=len(rest),
        ungrouped_examples=tuple(answers[index].text for index in rest[:EXAMPLES]),
    )
