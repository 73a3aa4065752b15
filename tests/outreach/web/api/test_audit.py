"""GET /api/v1/audit: what tokens did, read by an admin token, newest first and cursor-paged; API
writes recorded with the token's id and label."""

from __future__ import annotations

import pytest

from outreach.bootstrap import Services
from outreach.web.api.auth import issue_token
from tests.outreach.web.api.conftest import AppClient
from tests.outreach.web.api.helpers import auth, bearer, draft


async def _labelled(services: Services, label: str, *scopes: str) -> tuple[int, dict[str, str]]:
    issued = await issue_token(services.sessions, scopes=list(scopes), label=label, now=services.clock())
    assert issued.record.id is not None
    return issued.record.id, bearer(issued.token)


async def test_a_launch_through_the_api_is_recorded_with_the_tokens_id_and_label(
    api: AppClient, services: Services
) -> None:
    campaign_id = await draft(services)
    writer_id, writer = await _labelled(services, "consultation platform", "campaigns:write")
    launched = await api.post(f"/api/v1/campaigns/{campaign_id}/launch", headers=writer)
    assert launched.status == 200, await launched.text()

    page = await (await api.get("/api/v1/audit", headers=await auth(services, "admin"))).json()
    assert page["next_cursor"] is None
    assert page["data"][0] | {"id": 0, "at": ""} == {
        "id": 0,
        "at": "",
        "actor": {"kind": "token", "id": str(writer_id), "label": "consultation platform"},
        "action": "campaign.launch",
        "target": {"kind": "campaign", "id": str(campaign_id)},
        "details": {"slug": "park-orunski", "status": "active"},
    }


@pytest.mark.parametrize("scope", ["campaigns:read", "campaigns:write", "responses:rows", "residents:write"])
async def test_only_an_admin_token_reads_the_audit_log(api: AppClient, services: Services, scope: str) -> None:
    refused = await api.get("/api/v1/audit", headers=await auth(services, scope))
    assert refused.status == 403
    assert (await refused.json())["error"]["code"] == "insufficient_scope"


async def test_pages_follow_the_cursor_and_filters_narrow_them(api: AppClient, services: Services) -> None:
    _, admin = await _labelled(services, "ops", "admin")
    for label in ("a", "b", "c"):
        made = await api.post("/api/v1/tokens", headers=admin, json={"label": label, "scopes": ["campaigns:read"]})
        assert made.status == 201
    revoked = await api.delete("/api/v1/tokens/2", headers=admin)
    assert revoked.status == 200

    first = await (await api.get("/api/v1/audit?limit=3", headers=admin)).json()
    assert [entry["action"] for entry in first["data"]] == ["token.revoke", "token.create", "token.create"]
    rest = await (await api.get(f"/api/v1/audit?limit=3&cursor={first['next_cursor']}", headers=admin)).json()
    assert [entry["target"]["id"] for entry in rest["data"]] == ["2"] and rest["next_cursor"] is None
    assert rest["data"][0]["details"] == {"scopes": ["campaigns:read"], "campaign_id": None, "expires_at": None}

    creates = await (await api.get("/api/v1/audit?action=token.create", headers=admin)).json()
    assert len(creates["data"]) == 3
    under = await (await api.get("/api/v1/audit?action=token.", headers=admin)).json()
    assert len(under["data"]) == 4
    later = services.clock().isoformat().replace("+00:00", "Z")
    assert (await (await api.get(f"/api/v1/audit?until={later}", headers=admin)).json())["data"] == []


@pytest.mark.parametrize(
    "query",
    ["cursor=bm90IGEgY3Vyc29y", "since=2027-01-28T09:00:00", "action=DROP%20TABLE", "limit=0"],
)
async def test_a_bad_query_is_refused_with_400(api: AppClient, services: Services, query: str) -> None:
    refused = await api.get(f"/api/v1/audit?{query}", headers=await auth(services, "admin"))
    assert refused.status == 400, await refused.text()
