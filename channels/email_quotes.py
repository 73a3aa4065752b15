"""Only what the resident wrote (pure): `cut_reply` cuts quoted text, reply headers and signatures.

Reply headers ("… wrote:", "W dniu … napisał(a):", Outlook's "From: / Sent:" block and separators),
signatures ("-- ", "Sent from my iPhone") and closing formulas ("Pozdrawiam" and a name), as Gmail,
Outlook, Apple Mail and Thunderbird write them in English, Polish and Ukrainian.
"""

from __future__ import annotations

import re
from typing import Literal

from channels.email_body import tidy

_QUOTE_VERBS = (
    r"wrote|napisał\(a\)|napisał\(-a\)|napisała|napisał|pisze|написав\(ла\)|написала|написав|пише|schrieb|a écrit"
)
# The line that ends a reply header ("… wrote:"); the header may be wrapped over up to three lines.
_HEADER_END = re.compile(rf"(?:{_QUOTE_VERBS})\s*:\s*$", re.IGNORECASE)
# How a wrapped reply header begins: "On …", "W dniu …", "Dnia …", a date, a weekday.
_HEADER_START = re.compile(
    r"^(on|w dniu|dnia|am|le|el|op|\d|"
    r"pon|wt|śr|czw|pt|sob|niedz|mon|tue|wed|thu|fri|sat|sun|пн|вт|ср|чт|пт|сб|нд)\b",
    re.IGNORECASE,
)
# macOS Mail in Polish: "Wiadomość napisana przez Jan Kowalski <…> w dniu 02.03.2027, o godz. 10:00:"
_APPLE_PL_HEADER = re.compile(r"^wiadomość napisana przez\b.*\bw dniu\b.*:\s*$", re.IGNORECASE)
# Outlook's header block: "From: … / Sent: … / To: … / Subject: …" and its translations.
_OUTLOOK_FROM = re.compile(r"^\*?(from|od|від|von|de)\s*:\*?\s*\S", re.IGNORECASE)
_OUTLOOK_SENT = re.compile(r"^\*?(sent|date|wysłane|wysłano|data|надіслано|дата|gesendet|envoyé)\s*:", re.IGNORECASE)
_SEPARATOR = re.compile(
    r"^(_{10,}|-{3,}\s*(original message|wiadomość oryginalna|oryginalna wiadomość|"
    r"оригінальне повідомлення|forwarded message|przekazana wiadomość)\s*-{3,})\s*$",
    re.IGNORECASE,
)
_SIGNATURE = re.compile(r"^--\s?$")
_MOBILE_SIGNATURE = re.compile(
    r"^(sent from my \w+|sent from (mail|outlook|yahoo)\b|get outlook for \w+|"
    r"(wysłane|wysłano) z (mojego |mojej |aplikacji )?(iphone|ipad|telefonu|smartfona|urządzenia|samsung|"
    r"huawei|xiaomi|outlook|poczty|aplikacji)|pobierz (aplikację )?outlook|"
    r"надіслано з (мого )?\w+)",
    re.IGNORECASE,
)


# A closing line ("Pozdrawiam," / "Regards,") followed by at most a name and a line or two.
_VALEDICTION = re.compile(
    r"^(pozdrawiam|pozdrowienia|serdecznie pozdrawiam|serdeczne pozdrowienia|z poważaniem|z wyrazami szacunku|"
    r"łączę pozdrowienia|dziękuję|dzięki|regards|best regards|kind regards|best wishes|best|cheers|thanks|"
    r"thank you|many thanks|з повагою|дякую|щиро дякую)\s*[,.!]?\s*$",
    re.IGNORECASE,
)
_VALEDICTION_TAIL = 5  # lines after the closing: a name, an address, a phone
_VALEDICTION_TAIL_WIDTH = 60


def _cut_valediction(text: str) -> str:
    """The text without a closing formula and the name under it, when something stands above it."""
    lines = text.split("\n")
    for index in range(len(lines) - 1, 0, -1):
        if not _VALEDICTION.match(lines[index].strip()):
            continue
        tail = [line for line in lines[index + 1 :] if line.strip()]
        above = tidy(lines[:index])
        if above and len(tail) <= _VALEDICTION_TAIL and all(len(line) <= _VALEDICTION_TAIL_WIDTH for line in tail):
            return above
        break
    return text


def _unquoted(line: str) -> str:
    return line.lstrip().lstrip(">").strip() if line.lstrip().startswith(">") else line.strip()


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _reply_header_at(lines: list[str], index: int) -> int | None:
    """When line `index` ends a reply header ("… wrote:"), the index of the header's first line."""
    line = _unquoted(lines[index])
    if not line.endswith(":"):
        return None
    ends_with_verb = bool(_HEADER_END.search(line))
    for start in (index, index - 1, index - 2):
        if start < 0:
            break
        first = _unquoted(lines[start])
        if not first or (start < index and re.search(r"[.!?]$", first)):
            break  # a blank line or the end of a sentence: the header does not reach further up
        if _APPLE_PL_HEADER.match(" ".join(_unquoted(part) for part in lines[start : index + 1])):
            return start
        if ends_with_verb and _HEADER_START.match(first):
            return start
    # "Jan Kowalski <jan@example.org> napisał:" with no known opening: an address or a digit marks it.
    if ends_with_verb and re.search(r"@|\d", line):
        return index
    return None


def _outlook_header_at(lines: list[str], index: int) -> bool:
    if not _OUTLOOK_FROM.match(_unquoted(lines[index])):
        return False
    following = [_unquoted(line) for line in lines[index + 1 : index + 5]]
    return any(_OUTLOOK_SENT.match(line) for line in following)


CutKind = Literal["signature", "outlook", "header"]


def _find_cut(lines: list[str]) -> tuple[int, int, CutKind] | None:
    """(first line cut, first line after it, what it is) of the earliest cut point."""
    for index, line in enumerate(lines):
        plain = _unquoted(line)
        if not _is_quoted(line) and (_SIGNATURE.match(line) or _MOBILE_SIGNATURE.match(plain)):
            return index, index + 1, "signature"
        if _SEPARATOR.match(plain):
            return index, index + 1, "outlook"
        if _outlook_header_at(lines, index):
            start = index
            # A separator line (Outlook's underscores) just above the header goes too.
            previous = index - 1
            while previous >= 0 and not lines[previous].strip():
                previous -= 1
            if previous >= 0 and _SEPARATOR.match(_unquoted(lines[previous])):
                start = previous
            return start, index + 1, "outlook"
        start_of_header = _reply_header_at(lines, index)
        if start_of_header is not None:
            return start_of_header, index + 1, "header"
    return None


def cut_reply(text: str) -> str:
    """Only what the resident wrote: quoted text, reply headers and signatures removed.

    A top-posted reply is the text above the first reply header, separator or signature. When nothing
    stands above a "… wrote:" header, the reply is bottom-posted: the unquoted lines under the header,
    cut again. Under an Outlook header the original follows unquoted, so nothing there is taken.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ").split("\n")
    cut = _find_cut(lines)
    head = lines if cut is None else lines[: cut[0]]
    kept = _cut_valediction(tidy(line for line in head if not _is_quoted(line)))
    if kept or cut is None or cut[2] != "header":
        return kept
    tail = [line for line in lines[cut[1] :] if not _is_quoted(line)]
    return cut_reply("\n".join(tail))
