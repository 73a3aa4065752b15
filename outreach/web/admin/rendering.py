"""Rendering an officials' page: the template with what every page reads (language, account, CSRF)."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web
from babel.support import NullTranslations

from outreach.errors import Explanation
from outreach.officials.oidc import oidc_client
from outreach.officials.roles import PERMISSIONS
from outreach.web.admin import i18n
from outreach.web.admin.charts import BAR_HEIGHT, BAR_WIDTH, LABEL_WIDTH
from outreach.web.admin.sessions import CSRF_FIELD, form_token, official_of, secure_cookies
from outreach.web.keys import SERVICES


def page_context(request: web.Request) -> dict[str, Any]:
    """What every page's template reads (given with each render: aiohttp_jinja2's context processors
    keep their state under a plain-string request key, which aiohttp warns about)."""
    language = i18n.request_language(request)
    catalog = i18n.translations(language)
    official = official_of(request)
    return {
        "request": request,
        "static_url": lambda name: str(request.app.router["static"].url_for(filename=name)),
        "_": catalog.gettext,
        "explain": lambda explanation: explained(explanation, catalog),
        # An error's Explanation when it has one (a plain text has none: shown as it is, in English).
        "explanation_of": lambda error: getattr(error, "explanation", None),
        "lang": language,
        "languages": i18n.LANGUAGES,
        "official": official,
        "permissions": PERMISSIONS.get(official.role, frozenset()) if official else frozenset(),
        "sso_name": _sso_name(request),
        "csrf_field": CSRF_FIELD,
        "csrf": form_token(request),
        "path": request.rel_url.path,
        "chart": {"bar_height": BAR_HEIGHT, "bar_width": BAR_WIDTH, "label_width": LABEL_WIDTH},
    }


def explained(explanation: Explanation, catalog: NullTranslations) -> str:
    """A warning or refusal in the page's language: its template from the catalog, then its parameters
    (those that are themselves catalog words, like a status, or explanations, translated too)."""
    params = {
        name: explained(value, catalog)
        if isinstance(value, Explanation)
        else catalog.gettext(str(value))
        if name in explanation.worded
        else value
        for name, value in explanation.params.items()
    }
    return catalog.gettext(explanation.template) % params


def _sso_name(request: web.Request) -> str | None:
    client = oidc_client(request.config_dict[SERVICES].settings)
    return client.name if client else None


def render(template: str, request: web.Request, context: dict[str, Any], *, status: int = 200) -> web.Response:
    response = aiohttp_jinja2.render_template(template, request, page_context(request) | context, status=status)
    language = i18n.request_language(request)
    if request.query.get("lang") == language:  # a choice made on the page is remembered
        response.set_cookie(i18n.COOKIE, language, path="/admin", samesite="Strict", secure=secure_cookies(request))
    return response
