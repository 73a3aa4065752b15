"""Matching is bounded: no reply, however long or odd, makes a matcher raise or run for long.

A reply is matched on at most `MAX_MATCHED_LENGTH` characters (cut at a space, so no word or number is
split), a number of more than `MAX_DIGITS` digits is no answer, and no pattern backtracks. Nothing
here measures time: the review saw one 40,000-digit rating take 22 s of the event loop before it raised.
"""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from flows.matching import MAX_MATCHED_LENGTH, Answer, match_reply
from flows.model import Question
from flows.numbers import MAX_DIGITS, numbers_in
from flows.options import _inside_longer
from tests.flows.test_matching import QUESTIONS


def _question(**spec: object) -> Question:
    return Question.model_validate({"id": "q", "text": {"pl": "?", "en": "?", "uk": "?"}, **spec})


# Every type, with and without bounds; the text question keeps more than the matching cut.
EVERY_QUESTION = [
    *QUESTIONS.values(),
    _question(type="number"),
    _question(type="text", max_length=5_000),
    _question(type="scale", min=-5, max=5),
    # Options whose phrases nest ("a" in "a a" in "a a a"): the most work a reply of a's can cause.
    _question(
        type="choice",
        options=[{"key": f"k{n}", "text": {"pl": "a " * n, "en": "a " * n, "uk": "а " * n}} for n in range(1, 9)],
    ),
    _question(
        type="multi",
        options=[{"key": f"k{n}", "text": {"pl": "a " * n, "en": "a " * n, "uk": "а " * n}} for n in range(1, 9)],
    ),
]

# What replies are made of: digits and their separators, words, stars and thumbs with skin tones and
# variation selectors, combining marks, a zero-width joiner, Cyrillic and Polish letters, the
# apostrophes of п'ять, and characters that NFKD makes longer (﷽ is 18 letters, ① is 1).
PIECES = [
    *"0123456789",
    *" /,.-−+()!?\n\t",
    "tak",
    "nie",
    "yes",
    "wiem",
    "a",
    "b",
    "i",
    "and",
    "cztery",
    "п'ять",
    "дуже",
    "⭐",
    "★",
    "🌟",
    "👍",
    "👎",
    "\U0001f3fb",
    "\U0001f3ff",
    "\ufe0f",
    "\u20e3",
    "\u0301",
    "\u0308",
    "\u200d",
    "ąęłŁóżź",
    "ЙйїЇ",
    "'’ʼ`",
    "﷽",
    "①",
    "²",
    "٣",
]
piece = st.sampled_from(PIECES) | st.characters()
short_reply = st.lists(piece, max_size=40).map("".join)
# Up to about a megabyte: a short pattern repeated, between two short replies.
huge_reply = st.builds(
    lambda head, unit, times, tail: head + unit * (times // len(unit)) + tail,
    short_reply,
    st.lists(piece, min_size=1, max_size=6).map("".join).filter(bool),
    st.integers(min_value=MAX_MATCHED_LENGTH, max_value=1_000_000),
    short_reply,
)


def _check(reply: str) -> None:
    for question in EVERY_QUESTION:
        for language in ("pl", "en", "uk"):
            answer = match_reply(question, language, reply)
            if answer is None:
                continue
            value = answer.value
            json.dumps(value, allow_nan=False)  # what is stored: no inf or nan
            if question.type == "text":
                assert isinstance(value, str) and 0 < len(value) <= question.max_length
            elif question.type in ("number", "scale"):
                assert isinstance(value, int | float) and math.isfinite(value)
                assert question.min is None or value >= question.min
                assert question.max is None or value <= question.max


@settings(deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(huge_reply)
@example("9" * 50_000)
@example("9" * 4_301)
@example("1" * 40_000 + "/5")
@example("-" + "1" * 40_000 + " / " + "5" * 40_000)
@example("1," * 500_000)
@example("1." * 500_000)
@example("/" * 1_000_000)
@example(" " * 1_000_000 + "tak")
@example("a " * 500_000)
@example("tak " + "\u0301" * 1_000_000)
@example("👍\U0001f3fb\ufe0f" * 300_000)
@example("⭐" * 1_000_000)
@example("﷽" * 100_000)
@example("п'" * 500_000)
def test_a_huge_reply_gets_an_answer_or_none_from_every_matcher(reply: str) -> None:
    _check(reply)


@settings(deadline=None, max_examples=150)
@given(short_reply)
@example("4/5/5")
@example("1/" + "1" * 5_000)
@example("1" * 16)
@example("1" * 400 + ".5")
@example("-" * 300 + "1")
@example("4️⃣")
def test_an_odd_short_reply_gets_an_answer_or_none_from_every_matcher(reply: str) -> None:
    _check(reply)


@pytest.mark.parametrize("name", ["times", "kids", "rating", "nps", "visits", "priorities", "yesno"])
def test_a_number_of_4301_digits_is_no_answer(name: str) -> None:
    # The old code raised ValueError: Python refuses int() of more than 4,300 digits.
    assert match_reply(QUESTIONS[name], "pl", "9" * 4_301) is None


def test_a_40000_digit_rating_out_of_5_is_no_answer() -> None:
    # The old code raised ValueError on both; on the second only after its "4/5" pattern had searched
    # from every digit (quadratic: 2 s for 10,000 digits here, 22 s for 40,000 in the review).
    assert match_reply(QUESTIONS["rating"], "pl", "1" * 40_000 + "/5") is None
    assert match_reply(QUESTIONS["rating"], "pl", "1" * 40_000) is None


def test_a_number_too_long_to_be_an_answer_is_none_not_infinity() -> None:
    # The old code answered inf (stored as JSON `Infinity`, which no JSON reader takes).
    unbounded = _question(type="number")
    assert match_reply(unbounded, "pl", "1" * 400 + ".5") is None
    assert match_reply(unbounded, "pl", "1" * (MAX_DIGITS + 1)) is None
    assert match_reply(unbounded, "pl", "-" + "1" * (MAX_DIGITS + 1)) is None
    assert match_reply(unbounded, "pl", "9" * MAX_DIGITS) == Answer(int("9" * MAX_DIGITS))
    assert match_reply(unbounded, "pl", "1" * MAX_DIGITS + "," + "5" * 400) == Answer(
        float("1" * MAX_DIGITS + "." + "5" * 400)
    )


def test_a_too_long_number_still_counts_as_a_number() -> None:
    # "5 and 9999…" names two numbers: no single answer, not 5.
    assert numbers_in("5 " + "9" * 100) == [5, math.inf]
    assert numbers_in("−" + "9" * 5_000) == [-math.inf]
    assert match_reply(QUESTIONS["times"], "pl", "5 " + "9" * 100) is None
    assert match_reply(QUESTIONS["visits"], "pl", "9" * 100) is None


def test_a_long_reply_is_matched_on_its_beginning() -> None:
    tail = " bo codziennie tam chodzę z psem" * 100
    assert match_reply(QUESTIONS["yesno"], "pl", "Tak," + tail) == Answer("yes")
    assert match_reply(QUESTIONS["rating"], "pl", "4/5" + tail) == Answer(4)
    assert match_reply(QUESTIONS["priorities"], "pl", "1 i 3" + tail) == Answer(["lighting", "playground"])
    assert match_reply(QUESTIONS["yesno"], "pl", " " * 1_000_000 + "tak") == Answer("yes")


def test_the_cut_never_splits_a_number() -> None:
    # The limit falls inside "12345": the matcher sees no number rather than 12.
    filler = "a " * ((MAX_MATCHED_LENGTH - 2) // 2)
    reply = filler + "12345"
    assert len(filler) < MAX_MATCHED_LENGTH < len(reply)
    assert match_reply(QUESTIONS["times"], "pl", reply) is None
    assert match_reply(QUESTIONS["times"], "pl", filler + "12") == Answer(12)


def test_a_text_answer_keeps_its_own_limit_not_the_matching_cut() -> None:
    letter = _question(type="text", max_length=5_000)
    long_text = "Proszę o ławki. " * 300  # 4,800 characters
    assert match_reply(letter, "pl", long_text) == Answer(long_text.strip())
    assert match_reply(letter, "pl", long_text * 100) == Answer((long_text * 100)[:5_000].rstrip())
    assert match_reply(QUESTIONS["note"], "pl", "  abc def ghi  ") == Answer("abc def gh")


@settings(deadline=None, max_examples=200)
@given(st.sets(st.tuples(st.integers(0, 12), st.integers(1, 6)).map(lambda sl: (sl[0], sl[0] + sl[1])), max_size=25))
def test_spans_inside_longer_ones_are_found_as_by_comparing_every_pair(spans: set[tuple[int, int]]) -> None:
    pairwise = {(s, e) for s, e in spans if any(s2 <= s and e <= e2 and e2 - s2 > e - s for s2, e2 in spans)}
    assert _inside_longer(spans) == pairwise
