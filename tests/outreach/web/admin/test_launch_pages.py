"""Launching from the pages under the two-person rule (outreach.web.admin.launch_pages), form by form over
a real socket: an editor asks, approvers are told (the campaigns list, the campaign page, an e-mail
through the service's SMTP server), another approver approves, the editor launches; a viewer cannot
launch, nobody approves their own request, and each step is audited."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from email import message_from_bytes
from email.policy import default

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from flows.loader import load_campaign
from outreach.campaigns.commands import create_campaign
from outreach.officials.accounts import account_policy, add_official, set_password
from storage.audit import AuditFilter, AuditRepository
from storage.campaigns import CampaignRepository
from storage.db import read_session
from tests.conftest import DATABASES, ManualClock
from tests.factories import add_resident
from tests.outreach.helpers import CAMPAIGN_YAML
from tests.world import World, open_world

# The pages, not the store, are under test (the rule's own tests run on both): one database is enough.
pytestmark = pytest.mark.parametrize("database_url", [DATABASES[0]], indirect=True)
Client = TestClient[web.Request, web.Application]
PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
SLUG = "tramwaj-na-morene"
LAUNCH = f"/admin/campaigns/{SLUG}/launch"
EDITOR, APPROVER, SECOND_APPROVER, VIEWER = (
    "ewa@gdansk.gda.pl",
    "adam@gdansk.gda.pl",
    "zofia@gdansk.gda.pl",
    "wiktor@gdansk.gda.pl",
)


@pytest.fixture
async def world(database_url: str, clock: ManualClock) -> AsyncIterator[World]:
    async with open_world(database_url, clock, smtp=True, admin_approval_threshold=1) as opened:
        services = opened.services
        policy = account_policy(services.settings)
        for email, role in ((EDITOR, "editor"), (APPROVER, "approver"), (SECOND_APPROVER, "admin"), (VIEWER, "viewer")):
            token = await add_official(services.sessions, email, role, now=clock(), policy=policy)
            await set_password(services.sessions, token, PASSWORD, now=clock())
        for number in range(2):
            await add_resident(services, phone=f"+4860010060{number}")
        await create_campaign(services.sessions, load_campaign(CAMPAIGN_YAML), clock=services.clock)
        yield opened


async def csrf_of(client: Client, path: str) -> str:
    match = CSRF.search(await (await client.get(path)).text())
    assert match, path
    return match.group(1)


async def log_in_as(client: Client, email: str) -> str:
    """Log in (ending any earlier login of this client); the session's CSRF token."""
    await client.post("/admin/logout", data={"csrf": await csrf_of(client, "/admin/")}, allow_redirects=False)
    csrf = await csrf_of(client, "/admin/login")
    response = await client.post(
        "/admin/login", data={"csrf": csrf, "email": email, "password": PASSWORD}, allow_redirects=False
    )
    assert response.status == 303, email
    return await csrf_of(client, "/admin/?lang=en")


async def test_a_large_launch_is_asked_for_approved_by_another_official_and_launched(world: World) -> None:
    client, services = world.client, world.services

    csrf = await log_in_as(client, EDITOR)
    page = await (await client.get(LAUNCH)).text()
    assert 'id="launch-audience">2<' in page and "Request launch" in page
    refused = await client.post(LAUNCH, data={"csrf": csrf})
    assert refused.status == 409 and "needs an approver&#39;s approval" in await refused.text()
    asked = await client.post(f"{LAUNCH}-request", data={"csrf": csrf}, allow_redirects=False)
    assert (asked.status, asked.headers["Location"]) == (303, f"{LAUNCH}?done=requested")
    page = await (await client.get(LAUNCH)).text()
    assert f"Launch request 1 by {EDITOR} waits for an approver." in page and "Approve" not in page
    assert (await client.post("/admin/launch-requests/1", data={"csrf": csrf, "decision": "approve"})).status == 403

    # Both approvers were told by mail (the requester is not), with the page's public address.
    told = {to for received in world.smtp.messages for to in received.rcpt_tos}
    assert told == {APPROVER, SECOND_APPROVER}
    mail = message_from_bytes(world.smtp.messages[0].content, policy=default)
    assert f"{world.public_url}{LAUNCH}" in mail.get_body().get_content()  # type: ignore[union-attr]

    csrf = await log_in_as(client, APPROVER)
    listing = await (await client.get("/admin/?lang=en")).text()
    assert "Waiting for your approval" in listing and f"{EDITOR} asks to launch it to 2 residents." in listing
    assert "Waiting for your approval" in await (await client.get(f"/admin/campaigns/{SLUG}")).text()
    decided = await client.post(
        "/admin/launch-requests/1",
        data={"csrf": csrf, "decision": "approve", "comment": "budżet OK"},
        allow_redirects=False,
    )
    assert (decided.status, decided.headers["Location"]) == (303, f"{LAUNCH}?done=approved")
    assert "Waiting for your approval" not in await (await client.get("/admin/?lang=en")).text()

    csrf = await log_in_as(client, EDITOR)
    page = await (await client.get(LAUNCH)).text()
    assert f"was approved by {APPROVER}" in page and "budżet OK" in page
    launched = await client.post(LAUNCH, data={"csrf": csrf}, allow_redirects=False)
    assert (launched.status, launched.headers["Location"]) == (303, f"/admin/campaigns/{SLUG}?done=launch")
    async with read_session(services.sessions) as session:
        record = await CampaignRepository(session).by_reference(SLUG)
        entries = await AuditRepository(session).page(AuditFilter(), before_id=None, limit=50)
    assert record is not None and record.status == "active"
    steps = [(e.action, e.actor_label) for e in reversed(entries) if e.action.startswith(("launch.", "campaign."))]
    assert steps == [
        ("launch.refused", EDITOR),
        ("launch.request", EDITOR),
        ("launch.approve", APPROVER),
        ("campaign.launch", EDITOR),
    ]


async def test_a_viewer_cannot_launch_and_an_approver_cannot_approve_their_own_request(world: World) -> None:
    client = world.client
    csrf = await log_in_as(client, VIEWER)
    assert (await client.get(LAUNCH)).status == 403
    assert (await client.post(LAUNCH, data={"csrf": csrf})).status == 403
    assert (await client.post(f"{LAUNCH}-request", data={"csrf": csrf})).status == 403
    assert "Launch…" not in await (await client.get(f"/admin/campaigns/{SLUG}?lang=en")).text()

    csrf = await log_in_as(client, APPROVER)
    await client.post(f"{LAUNCH}-request", data={"csrf": csrf})
    own = await client.post("/admin/launch-requests/1", data={"csrf": csrf, "decision": "approve"})
    assert own.status == 403 and "you asked for this launch" in await own.text()
    assert "Waiting for your approval" not in await (await client.get("/admin/?lang=en")).text()
