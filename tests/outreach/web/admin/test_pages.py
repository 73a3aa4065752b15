"""The officials' pages over a real socket (issue 21): logging in and out, one-time password links,
CSRF, throttling, the campaigns list, languages and the headers every page carries.

The browser-level scenarios (Playwright, axe) come with the campaign pages; these drive the same
HTTP an official's browser sends, form by form."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer

from flows.loader import load_campaign
from outreach.bootstrap import Services
from outreach.campaigns.commands import create_campaign
from outreach.officials.accounts import account_policy, add_official, deactivate, set_password
from outreach.web.admin.sessions import FORM_COOKIE, SECURITY_HEADERS, SESSION_COOKIE, AddressThrottle
from outreach.web.app import create_app
from tests.conftest import ManualClock
from tests.outreach.helpers import CAMPAIGN_YAML

Client = TestClient[web.Request, web.Application]
EMAIL = "anna.nowak@gdansk.gda.pl"
PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
async def pages(services: Services) -> AsyncIterator[Client]:
    app = create_app(services, run_background=False)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client


async def official(services: Services, role: str = "editor", email: str = EMAIL) -> None:
    policy = account_policy(services.settings)
    token = await add_official(services.sessions, email, role, now=services.clock(), policy=policy)
    await set_password(services.sessions, token, PASSWORD, now=services.clock())


async def form_csrf(pages: Client, path: str) -> str:
    response = await pages.get(path)
    match = CSRF.search(await response.text())
    assert match, path
    return match.group(1)


async def logged_in(pages: Client, email: str = EMAIL, password: str = PASSWORD) -> ClientResponse:
    csrf = await form_csrf(pages, "/admin/login")
    return await pages.post(
        "/admin/login",
        data={"csrf": csrf, "email": email, "password": password, "next": "/admin/"},
        allow_redirects=False,
    )


async def test_an_official_logs_in_sees_the_campaigns_and_logs_out(services: Services, pages: Client) -> None:
    await official(services)
    await create_campaign(services.sessions, load_campaign(CAMPAIGN_YAML), clock=services.clock)

    first = await pages.get("/admin/", allow_redirects=False)
    assert (first.status, first.headers["Location"]) == (303, "/admin/login?next=/admin/")

    response = await logged_in(pages)
    assert (response.status, response.headers["Location"]) == (303, "/admin/")
    cookie = response.cookies[SESSION_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/admin"

    listing = await pages.get("/admin/")
    page = await listing.text()
    assert listing.status == 200 and load_campaign(CAMPAIGN_YAML).name in page and EMAIL in page
    assert '<html lang="pl">' in page and "Kampanie" in page and "szkic" in page  # Polish by default

    csrf = CSRF.search(page)
    assert csrf
    out = await pages.post("/admin/logout", data={"csrf": csrf.group(1)}, allow_redirects=False)
    assert (out.status, out.headers["Location"]) == (303, "/admin/login")
    again = await pages.get("/admin/", allow_redirects=False)
    assert again.status == 303  # the session is gone from the database, not only from the browser


async def test_a_wrong_password_is_refused_at_its_fields_and_locks_the_account(
    services: Services, pages: Client
) -> None:
    await official(services)
    attempts = services.settings.admin_login_attempts
    for _ in range(attempts):
        refused = await logged_in(pages, password="not the password")
        page = await refused.text()
        assert refused.status == 401 and 'aria-invalid="true"' in page and 'aria-describedby="login-error"' in page
        assert SESSION_COOKIE not in refused.cookies
    locked = await logged_in(pages)  # the right password, but locked now
    assert locked.status == 429 and int(locked.headers["Retry-After"]) == services.settings.admin_lockout_minutes * 60
    assert "zablokowane" in await locked.text()


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/admin/login", {"email": EMAIL, "password": PASSWORD}),
        ("/admin/login", {"email": EMAIL, "password": PASSWORD, "csrf": "forged"}),
        ("/admin/logout", {}),
    ],
    ids=["login without a token", "login with a forged token", "logout without a token"],
)
async def test_a_post_without_the_forms_csrf_token_is_refused(
    services: Services, pages: Client, path: str, data: dict[str, str]
) -> None:
    await official(services)
    assert (await logged_in(pages)).status == 303
    await pages.get("/admin/login")  # the form cookie is set
    refused = await pages.post(path, data=data, allow_redirects=False)
    assert refused.status == 403 and "expired" in await refused.text()
    still = await pages.get("/admin/", allow_redirects=False)
    assert still.status == 200  # the refused logout ended nothing


async def test_a_password_link_sets_the_password_once(services: Services, pages: Client) -> None:
    policy = account_policy(services.settings)
    token = await add_official(services.sessions, EMAIL, "viewer", now=services.clock(), policy=policy)
    path = f"/admin/password/{token}"

    csrf = await form_csrf(pages, path)
    differ = await pages.post(path, data={"csrf": csrf, "password": PASSWORD, "repeated": PASSWORD + "!"})
    page = await differ.text()
    assert differ.status == 422 and 'id="password-error"' in page and "hasła się różnią" in page

    done = await pages.post(
        path, data={"csrf": csrf, "password": PASSWORD, "repeated": PASSWORD}, allow_redirects=False
    )
    assert (done.status, done.headers["Location"]) == (303, "/admin/login?password_set=1")
    assert (await logged_in(pages)).status == 303

    spent = await pages.get(path)
    assert spent.status == 404 and "nieważny" in await spent.text()
    unknown = await pages.get("/admin/password/not-a-token")
    assert unknown.status == 404


async def test_a_deactivated_officials_session_ends_at_once(services: Services, pages: Client) -> None:
    await official(services)
    assert (await logged_in(pages)).status == 303
    await deactivate(services.sessions, EMAIL, now=services.clock())
    after = await pages.get("/admin/", allow_redirects=False)
    assert after.status == 303 and after.headers["Location"].startswith("/admin/login")


async def test_an_idle_session_ends(services: Services, pages: Client, clock: ManualClock) -> None:
    await official(services)
    assert (await logged_in(pages)).status == 303
    clock.advance(minutes=services.settings.admin_session_idle_minutes)
    assert (await pages.get("/admin/", allow_redirects=False)).status == 303


@pytest.mark.parametrize(
    ("after", "landing"),
    [
        ("/admin/", "/admin/"),
        ("//evil.example/admin/", "/admin/"),
        ("https://evil.example/", "/admin/"),
        ("/admin/\\evil", "/admin/"),
        ("", "/admin/"),
    ],
)
async def test_after_a_login_only_our_own_pages_are_a_destination(
    services: Services, pages: Client, after: str, landing: str
) -> None:
    await official(services)
    csrf = await form_csrf(pages, "/admin/login")
    response = await pages.post(
        "/admin/login",
        data={"csrf": csrf, "email": EMAIL, "password": PASSWORD, "next": after},
        allow_redirects=False,
    )
    assert response.headers["Location"] == landing


@pytest.mark.parametrize(
    ("query", "header", "language", "text"),
    [
        ("", None, "pl", "Zaloguj się"),
        ("", "en-GB,en;q=0.9", "en", "Log in"),
        ("?lang=en", "pl", "en", "Log in"),
        ("?lang=pl", "en", "pl", "Zaloguj się"),
        ("?lang=de", "de", "pl", "Zaloguj się"),
    ],
)
async def test_the_pages_speak_polish_or_english(
    pages: Client, query: str, header: str | None, language: str, text: str
) -> None:
    headers = {"Accept-Language": header} if header else {}
    response = await pages.get(f"/admin/login{query}", headers=headers)
    page = await response.text()
    assert f'<html lang="{language}">' in page and f"<h1>{text}</h1>" in page


async def test_a_chosen_language_is_remembered(pages: Client) -> None:
    await pages.get("/admin/login?lang=en")
    page = await (await pages.get("/admin/login", headers={"Accept-Language": "pl"})).text()
    assert '<html lang="en">' in page


async def test_every_page_and_redirect_carries_the_security_headers(services: Services, pages: Client) -> None:
    await official(services)
    login = await pages.get("/admin/login")
    redirect = await pages.get("/admin/", allow_redirects=False)
    assert FORM_COOKIE in login.cookies and login.cookies[FORM_COOKIE]["httponly"]
    for response in (login, redirect):
        for name, value in SECURITY_HEADERS.items():
            assert response.headers.get(name) == value, (response.url, name)
    css = await pages.get(re.search(r'href="(/admin/static/admin.css[^"]*)"', await login.text()).group(1))  # type: ignore[union-attr]
    assert css.status == 200 and "focus-visible" in await css.text()


def test_the_address_throttle_blocks_after_its_limit_within_its_window() -> None:
    throttle = AddressThrottle(limit=3, window=timedelta(minutes=15))
    start = datetime(2027, 3, 2, 10, 0, tzinfo=UTC)
    for minute in range(3):
        assert throttle.blocked_until("203.0.113.9", start + timedelta(minutes=minute)) is None
        throttle.failed("203.0.113.9", start + timedelta(minutes=minute))
    assert throttle.blocked_until("203.0.113.9", start + timedelta(minutes=3)) == start + timedelta(minutes=15)
    assert throttle.blocked_until("198.51.100.1", start + timedelta(minutes=3)) is None  # per address
    assert throttle.blocked_until("203.0.113.9", start + timedelta(minutes=15)) is None  # the first aged out
