"""Logging in through the city's SSO (OpenID Connect), when OUTREACH_ADMIN_OIDC_* are set: the login
page's button leads to /admin/oidc/login, which sends the browser to the provider; the provider sends
it back to the redirect path with a code, which outreach.officials.oidc trades and checks. A refused
callback is in the audit log (outreach.officials.sso) and counts against the client address in the
password login's throttle (AddressThrottle): one address failing 20 logins of either kind within 15
minutes is refused the rest, before the provider is asked anything.

The state, nonce and PKCE verifier wait in a cookie of their own, SameSite=Lax: the way back is a
navigation from the provider's site, which a Strict cookie would not come with. The session cookie
stays Strict, so the callback ends on a small page of ours that goes on to /admin/ from this site.
"""

from __future__ import annotations

import logging
from datetime import datetime

import aiohttp
from aiohttp import web

from outreach.officials.oidc import TIMEOUT, OidcClient, Pending, SsoFailed, authorization_url, complete_login
from outreach.officials.oidc import oidc_client as configured_client
from outreach.officials.sso import SsoRefused, record_failed_sso, sso_log_in
from outreach.settings import Settings
from outreach.web.admin.paths import HOME, PREFIX
from outreach.web.admin.rendering import render
from outreach.web.admin.sessions import (
    THROTTLE,
    minutes_until,
    secure_cookies,
    set_retry_after,
    set_session_cookie,
)
from outreach.web.keys import SERVICES
from storage.official_tables import Official

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
    address, now = request.remote or "unknown", services.clock()
    blocked = request.config_dict[THROTTLE].blocked_until(address, now)
    if blocked is not None:
        response = _refused(request, "too_many", status=429, minutes=minutes_until(blocked, now))
        set_retry_after(response, blocked, now)
        return response
    pending = Pending.from_cookie(request.cookies.get(FLOW_COOKIE))
    if "error" in request.query:  # the official cancelled, or the provider refused them
        await _failed(request, address, now, "cancelled")
        return _refused(request, "cancelled", status=403)
    if pending is None:
        await _failed(request, address, now, "failed", why="no login started in this browser")
        return _refused(request, "failed", status=400)
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
            identity = await complete_login(
                http,
                request.app[SSO_CLIENT],
                pending,
                state=request.query.get("state", ""),
                code=request.query.get("code", ""),
                now=now,
            )
        logged_in = await sso_log_in(services.sessions, identity, now=now)
    except SsoFailed as failed:
        log.warning("SSO login refused: %s", failed.reason)
        await _failed(request, address, now, "failed", why=failed.reason)
        return _refused(request, "failed", status=400)
    except SsoRefused as refused:
        log.info("SSO login refused: %s account", refused.reason)
        reason = "deactivated" if refused.account is not None else refused.reason
        await _failed(request, address, now, reason, official=refused.account)
        return _refused(request, refused.reason, status=403)
    response = render("sso_done.html", request, {"home": HOME})
    set_session_cookie(response, request, logged_in.session_token)
    response.del_cookie(FLOW_COOKIE, path=PREFIX)
    return response


async def _failed(
    request: web.Request,
    address: str,
    now: datetime,
    reason: str,
    *,
    official: Official | None = None,
    why: str | None = None,
) -> None:
    """A refused callback: counted against the client address (not kept beyond the throttle's window),
    and written to the audit log."""
    request.config_dict[THROTTLE].failed(address, now)
    await record_failed_sso(request.config_dict[SERVICES].sessions, reason, now=now, official=official, why=why)


def _refused(request: web.Request, reason: str, *, status: int, minutes: int = 0) -> web.Response:
    response = render("sso_refused.html", request, {"reason": reason, "minutes": minutes}, status=status)
    response.del_cookie(FLOW_COOKIE, path=PREFIX)  # a login is tried once; the button starts afresh
    return response
