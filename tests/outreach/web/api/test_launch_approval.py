"""POST /api/v1/campaigns/{id}/launch keeps the two-person rule: over OUTREACH_ADMIN_APPROVAL_THRESHOLD
a 409 `approval_required` names the waiting request; a token can neither ask nor approve, and launches
once an approver other than the requester approved this version."""

from __future__ import annotations

import pytest

from outreach.audit import Actor
from outreach.bootstrap import Services
from outreach.campaigns.commands import find_campaign
from outreach.campaigns.launch_approval import decide, request_launch
from outreach.officials.accounts import account_policy, acting, add_official
from storage.db import read_session
from storage.official_tables import Official
from storage.officials import OfficialRepository
from tests.factories import add_resident
from tests.outreach.web.api.conftest import AppClient
from tests.outreach.web.api.helpers import auth, draft


@pytest.fixture(autouse=True)
def threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTREACH_ADMIN_APPROVAL_THRESHOLD", "1")


async def account(services: Services, email: str, role: str) -> Official:
    policy = account_policy(services.settings)
    await add_official(services.sessions, email, role, now=services.clock(), policy=policy)
    async with read_session(services.sessions) as session:
        official = await OfficialRepository(session).by_email(email)
    assert official is not None
    return official


async def test_a_large_launch_through_the_api_is_refused_until_approved(services: Services, api: AppClient) -> None:
    assert services.settings.admin_approval_threshold == 1
    for number in range(2):
        await add_resident(services, phone=f"+4860010050{number}", email=f"r{number}@example.org")
    campaign_id = await draft(services)
    headers = await auth(services, "campaigns:write")
    path = f"/api/v1/campaigns/{campaign_id}/launch"

    refused = await api.post(path, headers=headers)
    assert refused.status == 409
    error = (await refused.json())["error"]
    assert error["code"] == "approval_required" and "nobody asked an approver yet" in error["message"]
    assert error["details"] == [
        {"audience": 2, "threshold": 1, "request_id": None, "request_state": None, "request_current": False}
    ]

    editor = await account(services, "ewa@gdansk.gda.pl", "editor")
    approver = await account(services, "adam@gdansk.gda.pl", "approver")
    record = await find_campaign(services.sessions, str(campaign_id))
    requested = await request_launch(
        services.sessions, record, editor, audience=2, threshold=1, clock=services.clock, actor=acting(editor)
    )
    waiting = await api.post(path, headers=headers)
    assert waiting.status == 409
    assert (await waiting.json())["error"]["details"][0] | {"audience": 0} == {
        "audience": 0,
        "threshold": 1,
        "request_id": requested.request.id,
        "request_state": "waiting",
        "request_current": True,
    }

    assert requested.request.id is not None
    await decide(
        services.sessions,
        requested.request.id,
        approver,
        approve=True,
        comment=None,
        clock=services.clock,
        actor=Actor("official", str(approver.id), approver.email),
    )
    launched = await api.post(path, headers=headers)
    assert launched.status == 200, await launched.text()
    assert (await launched.json())["conversations_started"] == 2
