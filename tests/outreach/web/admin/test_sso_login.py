"""Logging in through the city's SSO (OpenID Connect) against a provider on loopback
(tests/servers/oidc_provider.py): discovery, the code flow with PKCE, state and nonce, the ID token
checked against the provider's keys. One good login, and each way a login must be refused."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import timedelta

import aiohttp
import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, expect
from pydantic import ValidationError
from yarl import URL

from outreach.bootstrap import Services
from outreach.officials.accounts import OFFICIAL_LOGIN, deactivate
from outreach.officials.oidc import oidc_client
from outreach.officials.sso import OFFICIAL_LOGIN_FAILED
from outreach.settings import Settings
from outreach.web.admin.sessions import SESSION_COOKIE, AddressThrottle
from outreach.web.admin.sso_pages import FLOW_COOKIE
from outreach.web.app import create_app
from storage.audit import AuditFilter, AuditRepository
from storage.db import read_session
from storage.officials import OfficialRepository
from storage.tables import AuditEntry
from tests.conftest import DATABASES, ManualClock
from tests.outreach.web.admin.test_browser import browser as browser  # the fixture
from tests.outreach.web.admin.test_browser import serious_violations
from tests.outreach.web.admin.test_pages import EMAIL, Client, logged_in, official
from tests.outreach.web.admin.test_pages import pages as pages  # the fixture
from tests.servers.oidc_provider import Login, OidcProvider
from tests.servers.ports import spare_port

CLIENT_ID = "outreach-admin"
CLIENT_SECRET = "s3cret-of-the-client"


@pytest.fixture
async def provider(clock: ManualClock) -> AsyncIterator[OidcProvider]:
    async with OidcProvider(CLIENT_ID, CLIENT_SECRET, clock) as running:
        yield running


@pytest.fixture
def site_port() -> int:
    """A free port for the browser scenario's site, known before its settings are made (the provider
    sends the browser back to PUBLIC_URL + the redirect path)."""
    return spare_port()


@pytest.fixture
def settings(settings: Settings, provider: OidcProvider, site_port: int) -> Settings:
    """The suite's settings with the provider on loopback as the city's SSO."""
    return Settings.model_validate(
        settings.model_dump()
        | {
            "public_url": f"http://127.0.0.1:{site_port}",
            "admin_oidc_issuer": provider.issuer,
            "admin_oidc_client_id": CLIENT_ID,
            "admin_oidc_client_secret": CLIENT_SECRET,
            "admin_oidc_name": "Gdańsk SSO",
            "sandbox_secret": settings.sandbox_secret,
        }
    )


async def sso_round(pages: Client) -> ClientResponse:
    """The login page's button, the provider (whose browser hop is a plain GET), and the way back."""
    start = await pages.get("/admin/oidc/login", allow_redirects=False)
    assert start.status == 303, await start.text()
    async with aiohttp.ClientSession() as browser, browser.get(start.headers["Location"], allow_redirects=False) as at:
        assert at.status == 302, await at.text()
        back = URL(at.headers["Location"])
    assert back.path == "/admin/oidc/callback"
    return await pages.get(back.path_qs, allow_redirects=False)


async def test_the_login_page_offers_the_sso_and_it_logs_an_official_in(
    services: Services, pages: Client, provider: OidcProvider
) -> None:
    await official(services)
    login_page = await (await pages.get("/admin/login")).text()
    assert 'href="/admin/oidc/login"' in login_page and "Zaloguj się przez Gdańsk SSO" in login_page

    provider.login = Login(email=EMAIL.upper())  # providers may keep the case people typed
    done = await sso_round(pages)
    assert done.status == 200 and 'http-equiv="refresh" content="0; url=/admin/"' in await done.text()
    cookie = done.cookies[SESSION_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/admin"
    assert done.cookies[FLOW_COOKIE].value == ""  # the flow's cookie is spent

    listing = await pages.get("/admin/", allow_redirects=False)
    assert listing.status == 200 and EMAIL in await listing.text()
    (request,) = provider.token_requests
    assert len(request["code_verifier"]) >= 43  # PKCE: the provider checked it against the challenge
    async with read_session(services.sessions) as session:
        (entry,) = await AuditRepository(session).page(AuditFilter(action=OFFICIAL_LOGIN), before_id=None, limit=5)
    assert entry.actor_label == EMAIL and entry.details == {"by": "sso"}


@dataclass(frozen=True)
class Refusal:
    login: Login
    status: int
    words: str  # on the page, in Polish
    why: str  # in the service's log: the check that refused it
    audited: str  # the reason of its `official.login_failed` entry


DID_NOT, UNCONFIRMED, NO_ACCOUNT = "Nie udało się dokończyć", "nie potwierdziło", "Nie ma aktywnego konta"
REFUSALS = {
    "wrong state": Refusal(
        Login(email=EMAIL, state="forged-state"), 400, DID_NOT, "the state does not match", "failed"
    ),
    "wrong nonce": Refusal(
        Login(email=EMAIL, nonce="replayed-nonce"), 400, DID_NOT, "Invalid claim: 'nonce'", "failed"
    ),
    "bad signature": Refusal(Login(email=EMAIL, signed_by_stranger=True), 400, DID_NOT, "BadSignatureError", "failed"),
    "expired token": Refusal(
        Login(email=EMAIL, lifetime=timedelta(minutes=-5)), 400, DID_NOT, "expired_token", "failed"
    ),
    "wrong audience": Refusal(
        Login(email=EMAIL, audience="another-client"), 400, DID_NOT, "Invalid claim: 'aud'", "failed"
    ),
    "unverified e-mail": Refusal(
        Login(email=EMAIL, email_verified=False), 403, UNCONFIRMED, "unverified", "unverified"
    ),
    "no e-mail": Refusal(Login(email=None), 403, UNCONFIRMED, "unverified", "unverified"),
    "unknown e-mail": Refusal(Login(email="stranger@gdansk.gda.pl"), 403, NO_ACCOUNT, "unknown", "unknown"),
    "deactivated official": Refusal(Login(email=EMAIL), 403, NO_ACCOUNT, "unknown", "deactivated"),
}


@pytest.mark.parametrize("case", REFUSALS, ids=list(REFUSALS))
async def test_a_login_the_service_must_not_accept_is_refused(
    services: Services, pages: Client, provider: OidcProvider, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    await official(services)
    if case == "deactivated official":
        await deactivate(services.sessions, EMAIL, now=services.clock())
    refusal = REFUSALS[case]
    provider.login = replace(refusal.login)
    with caplog.at_level(logging.INFO, logger="outreach.web.admin.sso_pages"):
        refused = await sso_round(pages)
    assert refused.status == refusal.status and refusal.words in await refused.text()
    assert refusal.why in caplog.text
    assert SESSION_COOKIE not in refused.cookies
    assert (await pages.get("/admin/", allow_redirects=False)).status == 303  # not logged in

    (entry,) = await audited(services, OFFICIAL_LOGIN_FAILED)
    assert entry.details["by"] == "sso" and entry.details["reason"] == refusal.audited
    assert "stranger" not in repr(entry)  # the e-mail of someone without an account is not kept
    if case == "deactivated official":  # the account the provider named, as a login's entry names it
        assert (entry.actor_kind, entry.actor_label, entry.target_kind) == ("official", EMAIL, "official")
    else:
        assert (entry.actor_kind, entry.actor_id, entry.target_kind) == ("visitor", "sso", None)
    if refusal.audited == "failed":
        assert refusal.why in str(entry.details["why"])


async def audited(services: Services, action: str) -> list[AuditEntry]:
    async with read_session(services.sessions) as session:
        return await AuditRepository(session).page(AuditFilter(action=action), before_id=None, limit=100)


async def test_a_cancelled_login_is_audited(services: Services, pages: Client) -> None:
    refused = await pages.get("/admin/oidc/callback?error=access_denied&state=x", allow_redirects=False)
    assert refused.status == 403
    (entry,) = await audited(services, OFFICIAL_LOGIN_FAILED)
    assert entry.details == {"by": "sso", "reason": "cancelled"}


async def test_an_address_failing_too_many_logins_is_refused_at_the_callback_and_the_password_form(
    services: Services, pages: Client, provider: OidcProvider, clock: ManualClock
) -> None:
    """The password login's throttle per client address counts refused SSO callbacks as well: once it
    is full, the callback is refused before the provider is asked, and so is the password form."""
    await official(services)
    limit = AddressThrottle().limit
    for _ in range(limit):
        forged = await pages.get("/admin/oidc/callback?state=forged&code=stolen", allow_redirects=False)
        assert forged.status == 400

    provider.login = Login(email=EMAIL)
    blocked = await sso_round(pages)
    assert blocked.status == 429 and int(blocked.headers["Retry-After"]) == 15 * 60
    assert "Zbyt wiele nieudanych logowań z tego adresu" in await blocked.text()
    assert provider.token_requests == [] and SESSION_COOKIE not in blocked.cookies
    assert (await logged_in(pages)).status == 429  # the right password, from the same address
    assert len(await audited(services, OFFICIAL_LOGIN_FAILED)) == limit  # a blocked try is not another entry

    clock.advance(minutes=15)
    done = await sso_round(pages)
    assert done.status == 200 and SESSION_COOKIE in done.cookies


async def test_a_callback_without_this_browsers_login_is_refused(
    services: Services, pages: Client, provider: OidcProvider
) -> None:
    """Someone's code and state sent to another browser (login CSRF): that browser started no login."""
    await official(services)
    provider.login = Login(email=EMAIL)
    start = await pages.get("/admin/oidc/login", allow_redirects=False)
    async with aiohttp.ClientSession() as browser, browser.get(start.headers["Location"], allow_redirects=False) as at:
        back = URL(at.headers["Location"])
    pages.session.cookie_jar.clear()
    refused = await pages.get(back.path_qs, allow_redirects=False)
    assert refused.status == 400 and SESSION_COOKIE not in refused.cookies
    assert provider.token_requests == []  # refused before the code was used


def test_the_sso_is_off_unless_all_three_settings_are_given() -> None:
    assert oidc_client(Settings(_env_file=None)) is None
    with pytest.raises(ValidationError, match="OpenID Connect login is set only in part"):
        Settings(_env_file=None, admin_oidc_issuer="https://sso.gdansk.example/realms/city")


@pytest.mark.parametrize("database_url", [DATABASES[0]], indirect=True)  # the pages are under test
async def test_in_a_browser_the_sso_button_logs_an_admin_in_to_the_officials_page(
    services: Services, provider: OidcProvider, browser: Browser, site_port: int
) -> None:
    """Chromium follows the real redirects (our site, the provider, back) and the page that goes on to
    /admin/ from our own site, so the SameSite=Strict session cookie comes along."""
    await official(services, role="admin")
    await official(services, role="viewer", email="jan.kowalski@gdansk.gda.pl")
    provider.login = Login(email=EMAIL)
    server = TestServer(create_app(services, run_background=False), host="127.0.0.1", port=site_port)
    await server.start_server()
    try:
        site = f"http://127.0.0.1:{site_port}"
        page = await browser.new_page(locale="pl-PL")
        await page.goto(f"{site}/admin/login")
        await page.get_by_role("link", name="Zaloguj się przez Gdańsk SSO").click()
        await page.wait_for_url(f"{site}/admin/")
        await page.get_by_role("link", name="Urzędnicy").click()
        await page.wait_for_url(f"{site}/admin/officials")
        assert "jan.kowalski@gdansk.gda.pl" in await page.get_by_role("table").inner_text()
        await page.get_by_label("Rola konta jan.kowalski@gdansk.gda.pl").select_option("editor")
        row = page.get_by_role("row").filter(has_text="jan.kowalski@gdansk.gda.pl")
        await row.get_by_role("button", name="Zmień rolę").click()
        await page.wait_for_url(f"{site}/admin/officials?done=role")
        assert await page.get_by_role("status").inner_text() == "Rola została zmieniona."
        assert await serious_violations(page) == []
        async with read_session(services.sessions) as session:
            changed = await OfficialRepository(session).by_email("jan.kowalski@gdansk.gda.pl")
        assert changed is not None and changed.role == "editor"
        # A callback this browser started no login for: the refusal page, scanned as every page is.
        stranger = await browser.new_page(locale="pl-PL")
        callback = services.settings.admin_oidc_redirect_path
        refused = await stranger.goto(f"{site}{callback}?code=someone-elses&state=someone-elses")
        assert refused is not None and refused.status == 400
        await expect(stranger.get_by_role("heading", level=1)).to_have_text("Logowanie przez SSO odrzucone")
        assert await serious_violations(stranger) == []
    finally:
        await server.close()
