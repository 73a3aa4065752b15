"""The pages' languages: gettext catalogs (Babel) read from the .po files beside this module when the
app is made, so there is no compile step; the language comes from ?lang=, then the cookie, then
Accept-Language, then Polish."""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from aiohttp import web
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from outreach.web.unsubscribe_results import browser_language

LANGUAGES = ("pl", "en")
DEFAULT = "pl"
COOKIE = "outreach_lang"
LOCALE_DIR = Path(__file__).parent / "locale"


@cache
def translations(language: str) -> NullTranslations:
    """The catalog of `language` (English is the source language: its texts are the keys)."""
    po = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return NullTranslations()
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(fp=compiled)


def request_language(request: web.Request) -> str:
    asked = request.query.get("lang") or request.cookies.get(COOKIE)
    if asked in LANGUAGES:
        return asked
    return browser_language(request.headers.get("Accept-Language"), LANGUAGES, DEFAULT)
