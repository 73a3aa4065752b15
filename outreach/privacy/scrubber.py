"""Masks personal data in text residents wrote: phone numbers, e-mail addresses and PESEL numbers.

One scrubber for every place that shows residents' own words to officials (free-text results today),
so what counts as personal data is decided once. A PESEL is masked only when its checksum holds and it
names a real date of birth, so ordinary long numbers (a meter reading, an invoice number) survive;
phone numbers are masked only when `phonenumbers` finds a valid number (Polish by default, any
country with a + or 00 prefix), so "12 lat" or "ul. Długa 15" survive too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import phonenumbers

PHONE_MASK = "[phone]"
EMAIL_MASK = "[email]"
PESEL_MASK = "[PESEL]"
MASKS = (PHONE_MASK, EMAIL_MASK, PESEL_MASK)

DEFAULT_REGION = "PL"  # how a number written without a country code is read
_PESEL = re.compile(r"(?<!\d)\d{11}(?!\d)")
_PESEL_WEIGHTS = (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)
# The local part and domain of an address as people write them; no attempt at the whole of RFC 5322,
# which would also catch things that are not addresses.
_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# PESEL's month carries the century: +80 for the 1800s, +0, +20, +40, +60 for the 1900s to the 2200s.
_CENTURIES = {0: 1900, 20: 2000, 40: 2100, 60: 2200, 80: 1800}


@dataclass(frozen=True)
class Scrubbed:
    text: str
    phones: int = 0
    emails: int = 0
    pesels: int = 0

    @property
    def masked(self) -> int:
        return self.phones + self.emails + self.pesels


def is_pesel(digits: str) -> bool:
    """Eleven digits whose last is the checksum of the first ten and whose first six are a date of birth."""
    if len(digits) != 11 or not digits.isdigit():
        return False
    numbers = [int(d) for d in digits]
    check = (10 - sum(w * n for w, n in zip(_PESEL_WEIGHTS, numbers, strict=False)) % 10) % 10
    if check != numbers[10]:
        return False
    year, month, day = int(digits[0:2]), int(digits[2:4]), int(digits[4:6])
    offset = (month - 1) // 20 * 20 if month else -1
    century = _CENTURIES.get(offset)
    if century is None:
        return False
    try:
        date(century + year, month - offset, day)
    except ValueError:
        return False
    return True


def scrub(text: str, *, region: str = DEFAULT_REGION) -> Scrubbed:
    """`text` with every PESEL, e-mail address and phone number replaced by its mask, and how many of each."""
    pesels = 0

    def pesel(match: re.Match[str]) -> str:
        nonlocal pesels
        if not is_pesel(match[0]):
            return match[0]
        pesels += 1
        return PESEL_MASK

    # PESEL first: eleven digits could also read as a phone number; e-mail next, as its digits could too.
    text = _PESEL.sub(pesel, text)
    text, emails = _EMAIL.subn(EMAIL_MASK, text)
    found = list(phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID))
    for match in reversed(found):  # from the end, so earlier offsets stay right
        text = text[: match.start] + PHONE_MASK + text[match.end :]
    return Scrubbed(text=text, phones=len(found), emails=emails, pesels=pesels)


def scrub_text(text: str) -> str:
    """Only the masked text."""
    return scrub(text).text
