"""Numbers in a reply: digits ("12", "1,5", "-3") and words from zero to ten in pl, en and uk."""

from __future__ import annotations

import math
import re

from flows.folding import fold

Number = int | float

_WORDS_BY_VALUE: dict[int, tuple[str, ...]] = {
    0: ("zero", "нуль"),
    1: ("jeden", "jedna", "jedno", "one", "один", "одна", "одне", "одно"),
    2: ("dwa", "dwie", "two", "два", "дві"),
    3: ("trzy", "three", "три"),
    4: ("cztery", "four", "чотири"),
    5: ("pięć", "five", "п'ять"),
    6: ("sześć", "six", "шість"),
    7: ("siedem", "seven", "сім"),
    8: ("osiem", "eight", "вісім"),
    9: ("dziewięć", "nine", "дев'ять"),
    10: ("dziesięć", "ten", "десять"),
}
# Ukrainian writes an apostrophe inside words (п'ять) in several forms; drop it so a word stays whole.
_APOSTROPHES = str.maketrans("", "", "'’ʼ`")
NUMBER_WORDS: dict[str, int] = {
    fold(word).translate(_APOSTROPHES): value for value, spelled in _WORDS_BY_VALUE.items() for word in spelled
}
# A decimal comma or point only between digits: "1,5" is one number, "1, 5" and "12." are not decimals.
# Linear: every part of a number is a different kind of character, so nothing can match two ways.
_TOKEN = re.compile(r"(?P<number>(?P<sign>[-−]?)(?P<whole>\d+)(?:[.,](?P<fraction>\d+))?)|(?P<word>\w+)")
# The most digits before the point a number in a reply may have: a double holds every integer of 15
# digits exactly, and no count, rating or amount a resident gives comes near. Longer runs of digits
# (a pasted id, a flood of 9s) are read as ±infinity: still a number ("5 99999…" names two), but one
# that is beyond every range and no answer. It also keeps int() below Python's 4,300-digit limit.
MAX_DIGITS = 15


def numbers_in(reply: str) -> list[Number]:
    """Every number the reply mentions, in order: an int unless written with a decimal part;
    ±math.inf for one of more than MAX_DIGITS digits before the point."""
    found: list[Number] = []
    for match in _TOKEN.finditer(fold(reply).translate(_APOSTROPHES)):
        if match["number"] is not None:
            found.append(_read(match["sign"] != "", match["whole"], match["fraction"]))
        elif match["word"] in NUMBER_WORDS:
            found.append(NUMBER_WORDS[match["word"]])
    return found


def _read(negative: bool, whole: str, fraction: str | None) -> Number:
    if len(whole) > MAX_DIGITS:
        value: Number = math.inf
    elif fraction is None:
        value = int(whole)
    else:
        value = float(f"{whole}.{fraction}")  # float() has no digit limit, and 15 digits cannot overflow
    return -value if negative else value


def whole_number(digits: str) -> int | None:
    """A run of digits as an int; None when it has more than MAX_DIGITS digits."""
    return int(digits) if len(digits) <= MAX_DIGITS else None


def whole(value: Number) -> int | None:
    """The value as an int when it has no fractional part ("4.0" -> 4), else None (also for ±inf)."""
    if isinstance(value, int):
        return value
    return int(value) if value.is_integer() else None
