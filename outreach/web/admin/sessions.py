"""Who is logged in on the officials' pages, and the checks every request passes.

- The session cookie (`outreach_admin`) holds a random token; the database holds its hash. It is
  HttpOnly, SameSite=Strict, limited to /admin, and Secure whenever the public URL is https.
- Every POST carries a CSRF token in a hidden field: the session's own once logged in; before that
  (the login and password forms) a random one that must also be in a cookie (double submit). A POST
  without the right one is refused with 403 before any handler runs.
- Every answer carries headers that keep the pages out of frames, caches and referrers (a password
  link's token is in its URL) and lets them run only the service's own scripts and styles.
- Logins are throttled per account (outreach.officials.accounts) and per client address here, so that
  trying one password against many accounts is slowed as well.
"""

from __future__ import annotations

import secrets
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aiohttp import web

from outreach.officials.accounts import AccountPolicy, session_official
from outreach.officials.roles import Permission, may
from outreach.web.admin.paths import LOGIN, PREFIX
from outreach.web.keys import SERVICES
from storage.official_tables import Official, OfficialSession

SESSION_COOKIE = "outreach_admin"
FORM_COOKIE = "outreach_admin_form"  # the double-submit CSRF token of the forms before a login
CSRF_FIELD = "csrf"
OFFICIAL_KEY: web.RequestKey[Official | None] = web.RequestKey("official")
LOGIN_KEY: web.RequestKey[OfficialSession | None] = web.RequestKey("login")
FORM_TOKEN_KEY: web.RequestKey[str] = web.RequestKey("form_token")
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class AddressThrottle:
    """At most `limit` failed logins per client address within `window` (kept in this worker's memory:
    a restart forgets, the per-account lock in the database does not)."""

    limit: int = 20
    window: timedelta = timedelta(minutes=15)
    failures: dict[str, deque[datetime]] = field(default_factory=dict)

    def blocked_until(self, address: str, now: datetime) -> datetime | None:
        recent = self._recent(address, now)
        return recent[0] + self.window if len(recent) >= self.limit else None

    def failed(self, address: str, now: datetime) -> None:
        self._recent(address, now).append(now)

    def _recent(self, address: str, now: datetime) -> deque[datetime]:
        recent = self.failures.setdefault(address, deque())
        while recent and now - recent[0] >= self.window:
            recent.popleft()
        if not recent:
            self.failures.pop(address, None)
            recent = self.failures.setdefault(address, deque())
        return recent


def minutes_until(until: datetime, now: datetime) -> int:
    """A refused login's wait as the pages word it: whole minutes, at least one."""
    return max(1, round((until - now).total_seconds() / 60))


def set_retry_after(response: web.StreamResponse, until: datetime, now: datetime) -> None:
    """Retry-After of a refused login: whole seconds, at least one."""
    response.headers["Retry-After"] = str(max(1, int((until - now).total_seconds())))


POLICY = web.AppKey("admin_account_policy", AccountPolicy)
THROTTLE = web.AppKey("admin_address_throttle", AddressThrottle)


def official_of(request: web.Request) -> Official | None:
    official: Official | None = request.get(OFFICIAL_KEY)
    return official


def signed_in(request: web.Request) -> Official:
    """The official a page behind @requires serves (it let the request in only with one)."""
    official = official_of(request)
    assert official is not None
    return official


def form_token(request: web.Request) -> str:
    """The CSRF token the page's forms carry."""
    login: OfficialSession | None = request.get(LOGIN_KEY)
    if login is not None:
        return login.csrf_token
    token: str = request.get(FORM_TOKEN_KEY) or request.cookies.get(FORM_COOKIE) or secrets.token_urlsafe(32)
    request[FORM_TOKEN_KEY] = token
    return token


def secure_cookies(request: web.Request) -> bool:
    return request.config_dict[SERVICES].settings.public_url.startswith("https://")


@web.middleware
async def admin_guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    services = request.config_dict[SERVICES]
    request[OFFICIAL_KEY] = None
    request[LOGIN_KEY] = None
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        found = await session_official(
            services.sessions, token, now=services.clock(), policy=request.config_dict[POLICY]
        )
        if found is not None:
            request[OFFICIAL_KEY], request[LOGIN_KEY] = found
    if request.method == "POST" and not await _csrf_holds(request):
        response: web.StreamResponse = web.Response(
            status=403, text="This form has expired or did not come from these pages: reload the page and try again."
        )
    else:
        try:
            response = await handler(request)
        except web.HTTPException as raised:  # redirects and refusals carry the headers too
            raised.headers.update(SECURITY_HEADERS)
            raise
    response.headers.update(SECURITY_HEADERS)
    if FORM_TOKEN_KEY in request and request.get(LOGIN_KEY) is None and FORM_COOKIE not in request.cookies:
        response.set_cookie(
            FORM_COOKIE,
            request[FORM_TOKEN_KEY],
            path=PREFIX,
            httponly=True,
            samesite="Strict",
            secure=secure_cookies(request),
        )
    return response


async def _csrf_holds(request: web.Request) -> bool:
    form = await request.post()
    given = form.get(CSRF_FIELD)
    if not isinstance(given, str) or not given:
        return False
    login = request.get(LOGIN_KEY)
    expected = login.csrf_token if login is not None else request.cookies.get(FORM_COOKIE)
    return bool(expected) and secrets.compare_digest(given, expected or "")


def requires(permission: Permission) -> Callable[[Handler], Handler]:
    """A page for logged-in officials whose role has `permission`: others go to the login page
    (and come back after it), or get 403 when logged in with a role that lacks it."""

    def wrap(handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            official = official_of(request)
            if official is None:
                raise web.HTTPSeeOther(f"{LOGIN}?next={request.rel_url.path}")
            if not may(official.role, permission):
                raise web.HTTPForbidden(text="Your role does not allow this page.")
            return await handler(request)

        return guarded

    return wrap


def set_session_cookie(response: web.StreamResponse, request: web.Request, token: str) -> None:
    """The cookie of a new login, by password or by SSO."""
    response.set_cookie(
        SESSION_COOKIE, token, path=PREFIX, httponly=True, samesite="Strict", secure=secure_cookies(request)
    )


def local_next(value: str | None) -> str:
    """Where to go after a login: only a page of ours (never another site, nor //host)."""
    if value and value.startswith(PREFIX + "/") and not value.startswith("//") and "\\" not in value:
        return value
    return PREFIX + "/"
