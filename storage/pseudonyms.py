"""Residents' pseudonyms: "r" and 16 random hex digits, the id exports and logs name a resident by."""

from __future__ import annotations

import secrets

PSEUDONYM_BYTES = 8


def new_pseudonym() -> str:
    return "r" + secrets.token_hex(PSEUDONYM_BYTES)


def new_pseudonyms(count: int) -> list[str]:
    """`count` pseudonyms as new_pseudonym makes them, from one read of the system's randomness (an
    import's batch makes thousands)."""
    random = secrets.token_hex(PSEUDONYM_BYTES * count)
    width = 2 * PSEUDONYM_BYTES
    return ["r" + random[start : start + width] for start in range(0, width * count, width)]
