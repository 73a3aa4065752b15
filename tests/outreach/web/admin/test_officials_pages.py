"""The officials' accounts page (/admin/officials) over a real socket: an admin adds an official and
gets the CLI's one-time link, changes a role, gives a new link, deactivates after a confirmation; the
last admin stays; other roles get 403; every change is in the audit log."""

from __future__ import annotations

import html
import re

import pytest

from outreach.bootstrap import Services
from outreach.officials.accounts import (
    OFFICIAL_ADD,
    OFFICIAL_DEACTIVATE,
    OFFICIAL_RESET,
    account_policy,
    log_in,
    session_official,
    set_password,
)
from outreach.officials.management import OFFICIAL_ROLE
from outreach.web.admin.paths import password_link
from storage.audit import AuditFilter, AuditRepository
from storage.db import read_session
from storage.officials import OfficialRepository
from tests.conftest import ManualClock
from tests.outreach.web.admin.test_pages import CSRF, EMAIL, PASSWORD, Client, form_csrf, logged_in, official
from tests.outreach.web.admin.test_pages import pages as pages  # the fixture

NEWCOMER = "jan.kowalski@gdansk.gda.pl"
LINK = re.compile(r'<code class="link">([^<]+)</code>')


async def audited(services: Services, action: str) -> list[tuple[str, str | None]]:
    async with read_session(services.sessions) as session:
        entries = await AuditRepository(session).page(AuditFilter(action=action), before_id=None, limit=50)
    return [(entry.actor_label, entry.target_id) for entry in entries]


async def account_id(services: Services, email: str) -> int:
    async with read_session(services.sessions) as session:
        found = await OfficialRepository(session).by_email(email)
    assert found is not None and found.id is not None
    return found.id


async def as_admin(services: Services, pages: Client) -> str:
    """Log the admin in; the session's CSRF token."""
    await official(services, role="admin")
    assert (await logged_in(pages)).status == 303
    return await form_csrf(pages, "/admin/officials")


async def test_an_admin_adds_an_official_whose_link_sets_a_password(
    services: Services, pages: Client, clock: ManualClock
) -> None:
    csrf = await as_admin(services, pages)
    added = await pages.post("/admin/officials", data={"csrf": csrf, "email": NEWCOMER, "role": "editor"})
    page = await added.text()
    match = LINK.search(page)
    assert added.status == 200 and match, page
    link = html.unescape(match.group(1))
    token = link.rsplit("/", 1)[1]
    assert link == password_link(services.settings.public_url, token)  # the link the CLI prints
    await set_password(services.sessions, token, PASSWORD, now=services.clock())

    clock.advance(minutes=5)
    listing = await (await pages.get("/admin/officials")).text()
    row = listing[listing.index(f'<th scope="row">{NEWCOMER}') :].split("</tr>", 1)[0]
    assert 'value="editor" selected' in row and "może się logować" in row and "–" in row  # never logged in
    admin_row = listing[listing.index(f'<th scope="row">{EMAIL}') :].split("</tr>", 1)[0]
    assert "UTC" in admin_row  # the admin's own login
    assert await audited(services, OFFICIAL_ADD) == [(EMAIL, str(await account_id(services, NEWCOMER)))]

    twice = await pages.post("/admin/officials", data={"csrf": csrf, "email": NEWCOMER, "role": "viewer"})
    assert twice.status == 422 and "has an account already" in await twice.text()


async def test_an_admin_changes_a_role_and_gives_a_new_link(services: Services, pages: Client) -> None:
    await official(services, role="viewer", email=NEWCOMER)
    csrf = await as_admin(services, pages)
    newcomer = await account_id(services, NEWCOMER)

    changed = await pages.post(
        f"/admin/officials/{newcomer}/role", data={"csrf": csrf, "role": "approver"}, allow_redirects=False
    )
    assert (changed.status, changed.headers["Location"]) == (303, "/admin/officials?done=role")
    async with read_session(services.sessions) as session:
        assert (await OfficialRepository(session).get(newcomer)).role == "approver"  # type: ignore[union-attr]
    assert await audited(services, OFFICIAL_ROLE) == [(EMAIL, str(newcomer))]

    reset = await pages.post(f"/admin/officials/{newcomer}/reset", data={"csrf": csrf})
    match = LINK.search(await reset.text())
    assert reset.status == 200 and match
    await set_password(
        services.sessions, html.unescape(match.group(1)).rsplit("/", 1)[1], PASSWORD + "!", now=services.clock()
    )
    assert await audited(services, OFFICIAL_RESET) == [(EMAIL, str(newcomer))]


async def test_deactivating_asks_first_and_ends_the_officials_sessions(services: Services, pages: Client) -> None:
    await official(services, role="editor", email=NEWCOMER)
    csrf = await as_admin(services, pages)
    newcomer = await account_id(services, NEWCOMER)
    policy = account_policy(services.settings)
    theirs = await log_in(services.sessions, NEWCOMER, PASSWORD, now=services.clock(), policy=policy)

    confirm = await pages.get(f"/admin/officials/{newcomer}/deactivate")
    assert confirm.status == 200 and NEWCOMER in await confirm.text()
    async with read_session(services.sessions) as session:
        assert (await OfficialRepository(session).get(newcomer)).deactivated_at is None  # type: ignore[union-attr]
    done = await pages.post(f"/admin/officials/{newcomer}/deactivate", data={"csrf": csrf}, allow_redirects=False)
    assert (done.status, done.headers["Location"]) == (303, "/admin/officials?done=deactivate")
    ended = await session_official(services.sessions, theirs.session_token, now=services.clock(), policy=policy)
    assert ended is None
    assert await audited(services, OFFICIAL_DEACTIVATE) == [(EMAIL, str(newcomer))]


@pytest.mark.parametrize("change", ["demote", "deactivate"])
async def test_the_last_admin_cannot_demote_or_deactivate_themselves(
    services: Services, pages: Client, change: str
) -> None:
    csrf = await as_admin(services, pages)
    me = await account_id(services, EMAIL)
    if change == "demote":
        refused = await pages.post(f"/admin/officials/{me}/role", data={"csrf": csrf, "role": "editor"})
    else:
        refused = await pages.post(f"/admin/officials/{me}/deactivate", data={"csrf": csrf})
    assert refused.status == 409 and "ostatni aktywny administrator" in await refused.text()
    assert (await pages.get("/admin/officials")).status == 200  # still an admin, still logged in

    await official(services, role="admin", email=NEWCOMER)  # with a second admin it may
    allowed = await pages.post(f"/admin/officials/{me}/role", data={"csrf": csrf, "role": "editor"})
    assert allowed.status == 403  # demoted: the page is no longer theirs


@pytest.mark.parametrize("role", ["viewer", "editor", "approver"])
async def test_only_an_admin_manages_accounts(services: Services, pages: Client, role: str) -> None:
    await official(services, role=role)
    await official(services, role="viewer", email=NEWCOMER)
    assert (await logged_in(pages)).status == 303
    csrf = CSRF.search(await (await pages.get("/admin/")).text())
    assert csrf
    newcomer = await account_id(services, NEWCOMER)
    for method, path, data in [
        ("GET", "/admin/officials", None),
        ("POST", "/admin/officials", {"email": "x@gdansk.gda.pl", "role": "admin"}),
        ("POST", f"/admin/officials/{newcomer}/role", {"role": "admin"}),
        ("POST", f"/admin/officials/{newcomer}/reset", {}),
        ("GET", f"/admin/officials/{newcomer}/deactivate", None),
        ("POST", f"/admin/officials/{newcomer}/deactivate", {}),
    ]:
        form = None if data is None else data | {"csrf": csrf.group(1)}
        response = await pages.request(method, path, data=form, allow_redirects=False)
        assert response.status == 403, (method, path)
    async with read_session(services.sessions) as session:
        unchanged = await OfficialRepository(session).get(newcomer)
    assert unchanged is not None and unchanged.role == "viewer" and unchanged.deactivated_at is None


async def test_a_form_without_the_csrf_token_changes_no_account(services: Services, pages: Client) -> None:
    await official(services, role="viewer", email=NEWCOMER)
    await as_admin(services, pages)
    newcomer = await account_id(services, NEWCOMER)
    refused = await pages.post(f"/admin/officials/{newcomer}/role", data={"role": "admin"})
    assert refused.status == 403
    async with read_session(services.sessions) as session:
        assert (await OfficialRepository(session).get(newcomer)).role == "viewer"  # type: ignore[union-attr]
