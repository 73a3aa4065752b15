"""Yes or no, in pl, en and uk, in words, short forms, option numbers and thumbs."""

from __future__ import annotations

import re

from flows.folding import Words, words

# Skin tones and the emoji variation selector vary by phone; they never change the meaning.
EMOJI_NOISE = re.compile("[\U0001f3fb-\U0001f3ff\ufe0f]")
_THUMBS = {"👍": "yes", "👎": "no"}


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


def match_yesno(reply: str) -> str | None:
    """ "yes", "no", or None when the reply says neither or both."""
    said = words(reply)
    by_words = _yesno_words(said) if said else None
    if said and by_words is None:
        return None
    thumbs = {_THUMBS[c] for c in EMOJI_NOISE.sub("", reply) if c in _THUMBS}
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
