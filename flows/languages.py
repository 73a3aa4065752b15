"""The languages the service speaks: one list, one default, and what a resident may type for each."""

from __future__ import annotations

LANGUAGES = ("pl", "en", "uk")
DEFAULT_LANGUAGE = LANGUAGES[0]
"""The service's own words fall back to this language, and a resident with none gets it."""
LANGUAGE_NAMES = {"pl": "Polski", "en": "English", "uk": "Українська"}
# Language codes a resident may type, to the language meant ("ua" is a common slip for uk).
TYPED_LANGUAGE_CODES = {"pl": "pl", "en": "en", "uk": "uk", "ua": "uk"}


def supported_or_default(code: str | None) -> str:
    """`code` when the service speaks it, else the default language."""
    return code if code in LANGUAGES else DEFAULT_LANGUAGE
