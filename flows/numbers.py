"""Numbers in a reply: digits ("12", "1,5", "-3") and words from zero to ten in pl, en and uk."""

from __future__ import annotations

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
_TOKEN = re.compile(r"(?P<number>[-−]?\d+(?:[.,]\d+)?)|(?P<word>\w+)")


def numbers_in(reply: str) -> list[Number]:
    """Every number the reply mentions, in order: an int unless written with a decimal part."""
    found: list[Number] = []
    for match in _TOKEN.finditer(fold(reply).translate(_APOSTROPHES)):
        number, word = match["number"], match["word"]
        if number is not None:
            text = number.replace("−", "-").replace(",", ".")
            found.append(float(text) if "." in text else int(text))
        elif word in NUMBER_WORDS:
            found.append(NUMBER_WORDS[word])
    return found


def whole(value: Number) -> int | None:
    """The value as an int when it has no fractional part ("4.0" -> 4), else None."""
    if isinstance(value, int):
        return value
    return int(value) if value.is_integer() else None
