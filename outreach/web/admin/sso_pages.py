"""Logging in through the city's SSO (OpenID Connect), when OUTREACH_ADMIN_OIDC_* are set: the login
page's button leads to /admin/oidc/login, which sends the browser to the provider; the provider sends
it back to the redirect path with a code, which outreach.officials.oidc trades and checks.

The state, nonce and PKCE verifier wait in a cookie of their own, SameSite=Lax: the way back is a
navigation from the provider's site, which a Strict cookie would not come with. The session cookie
stays Strict, so the callback ends on a small page of ours that goes on to /admin/ from this site.
"""

from __future__ import annotations

import logging

import aiohttp
from aiohttp import web

from outreach.officials.oidc import TIMEOUT, OidcClient, Pending, SsoFailed, authorization_url, complete_login
from outreach.officials.oidc import oidc_client as configured_client
from outreach.officials.sso import SsoRefused, sso_log_in
from outreach.settings import Settings
from outreach.web.admin.paths import HOME, PREFIX
from outreach.web.admin.rendering import render
from outreach.web.admin.sessions import secure_cookies, set_session_cookie
from outreach.web.keys import SERVICES

log = logging.getLogger(__name__)

SSO_START = PREFIX + "/oidc/login"
FLOW_COOKIE = "outreach_admin_oidc"
FLOW_SECONDS = 600  # a login at the provider must come back within this
SSO_CLIENT = web.AppKey("admin_sso_client", OidcClient)


def add_sso_pages(admin: web.Application, settings: Settings) -> None:
    """The SSO routes, when the settings configure a provider (nothing otherwise)."""
    client = configured_client(settings)
    if client is None:
        return
    admin[SSO_CLIENT] = client
    admin.router.add_get(SSO_START.removeprefix(PREFIX), sso_start)
    admin.router.add_get(settings.admin_oidc_redirect_path.removeprefix(PREFIX), sso_callback)


async def sso_start(request: web.Request) -> web.StreamResponse:
    pending = Pending.new()
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
            url = await authorization_url(http, request.app[SSO_CLIENT], pending)
    except SsoFailed as failed:
        log.warning("SSO login could not start: %s", failed.reason)
        return _refused(request, "unreachable", status=502)
    response = web.HTTPSeeOther(url)
    response.set_cookie(
        FLOW_COOKIE,
        pending.cookie_value(),
        path=PREFIX,
        max_age=FLOW_SECONDS,
        httponly=True,
        samesite="Lax",
        secure=secure_cookies(request),
    )
    raise response


async def sso_callback(request: web.Request) -> web.StreamResponse:
    services = request.config_dict[SERVICES]
    pending = Pending.from_cookie(request.cookies.get(FLOW_COOKIE))
    if "error" in request.query:  # the official cancelled, or the provider refused them
        return _refused(request, "cancelled", status=403)
    if pending is None:
        return _refused(request, "failed", status=400)
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
            identity = await complete_login(
                http,
                request.app[SSO_CLIENT],
                pending,
                state=request.query.get("state", ""),
                code=request.query.get("code", ""),
                now=services.clock(),
            )
        logged_in = await sso_log_in(services.sessions, identity, now=services.clock())
    except SsoFailed as failed:
        log.warning("SSO login refused: %s", failed.reason)
        return _refused(request, "failed", status=400)
    except SsoRefused as refused:
        log.info("SSO login refused: %s account", refused.reason)
        return _refused(request, refused.reason, status=403)
    response = render("sso_done.html", request, {"home": HOME})
    set_session_cookie(response, request, logged_in.session_token)
    response.del_cookie(FLOW_COOKIE, path=PREFIX)
    return response


def _refused(request: web.Request, reason: str, *, status: int) -> web.Response:
    response = render("sso_refused.html", request, {"reason": reason}, status=status)
    response.del_cookie(FLOW_COOKIE, path=PREFIX)  # a login is tried once; the button starts afresh
    return response
