"""The privacy notice page, `/privacy/{pl|en|uk}` (and `/privacy`, in the browser's language): who
processes residents' data and why, their rights and whom to write to, from the settings. Every
campaign's first message and the HELP reply link it (flows.texts.PrivacyNotice).

Plain, accessible HTML: the page's language in `lang`, one h1 and an h2 per section, the other
languages linked with their own `lang` and `hreflang`, near-black text on white (contrast above
15:1), underlined links, no script.
"""

from __future__ import annotations

import html

from aiohttp import web

from outreach.bootstrap import Services
from outreach.web.privacy_texts import LANGUAGE_NAMES, LANGUAGE_NAV, NOT_SET, NOTICE
from outreach.web.unsubscribe_results import browser_language

_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{title}</title></head>
<body style="font-family: sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.6;
 color: #111; background: #fff">
<nav aria-label="{nav_label}">{languages}</nav>
<main>
<h1 style="font-size: 1.5rem">{title}</h1>
{sections}
</main>
</body></html>"""


def notice_page(language: str, *, controller: str, controller_contact: str, dpo_contact: str) -> str:
    """The page in `language`, every value escaped."""
    title, sections = NOTICE[language]
    values = {
        "controller": controller,
        "controller_contact": controller_contact,
        "dpo_contact": dpo_contact or NOT_SET[language],
    }
    body = "\n".join(
        f'<h2 style="font-size: 1.15rem">{html.escape(heading)}</h2>\n'
        + "\n".join(f"<p>{html.escape(paragraph.format(**values).strip())}</p>" for paragraph in paragraphs)
        for heading, paragraphs in sections
    )
    languages = " | ".join(
        f'<a href="/privacy/{code}" lang="{code}" hreflang="{code}" style="color: #0645ad"{_current(code, language)}>'
        f"{html.escape(name)}</a>"
        for code, name in LANGUAGE_NAMES.items()
    )
    return _PAGE.format(
        lang=language,
        title=html.escape(title),
        nav_label=html.escape(LANGUAGE_NAV[language]),
        sections=body,
        languages=languages,
    )


def _current(code: str, language: str) -> str:
    return ' aria-current="page"' if code == language else ""


async def privacy_page(request: web.Request, services: Services) -> web.Response:
    language = request.match_info.get("language") or browser_language(request.headers.get("Accept-Language"))
    if language not in NOTICE:
        raise web.HTTPNotFound(text="the privacy notice is in pl, en and uk: /privacy/pl, /privacy/en, /privacy/uk")
    settings = services.settings
    page = notice_page(
        language,
        controller=settings.privacy_notice().controller,
        controller_contact=settings.controller_contact,
        dpo_contact=settings.dpo_contact,
    )
    return web.Response(text=page, content_type="text/html", headers={"Content-Language": language})
