"""GET /api/v1/audit: what tokens did, read by an admin token, newest first and cursor-paged; API
writes recorded with the token's id and label."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from outreach import audit
from outreach.audit import RETENTION_RUN
from outreach.bootstrap import Services
from outreach.officials.sso import record_failed_sso
from outreach.rights.retention import SCHEDULED
from outreach.web.api.application import API_ROUTES
from outreach.web.api.auth import issue_token
from outreach.web.api.resident_routes import RESIDENTS_EXAMPLE
from storage.db import read_session
from storage.tables import AuditEntry
from tests.outreach.web.api.conftest import AppClient
from tests.outreach.web.api.helpers import SURVEY_YAML, auth, bearer, draft
from tests.outreach.web.api.test_import_jobs import finished
from tests.outreach.web.api.test_webhook_subscribers import allow_loopback


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


HOOKS = "/webhooks/subscribers"
# Writes that store nothing, so leave no entry: a definition checked or previewed.
STORES_NOTHING = {"validateCampaign", "previewCampaignDefinition"}


async def test_every_api_write_leaves_one_audit_entry_naming_its_token(api: AppClient, services: Services) -> None:
    """Issue 20: every API write is in the audit log. Each write operation the API declares is called
    once here, in an order that makes each one succeed; a write added later without a call here fails
    the first assertion, one that records nothing the last."""
    allow_loopback(services)
    token_id, admin = await _labelled(services, "city platform", "admin")
    called: list[tuple[str, str]] = []  # (operationId, the audit action it must leave)

    async def write(operation: str, action: str, method: str, path: str, **send: Any) -> Any:
        response = await api.request(method, f"/api/v1{path}", headers={**admin, **send.pop("headers", {})}, **send)
        assert response.status < 300, (operation, response.status, await response.text())
        called.append((operation, action))
        return await response.json()

    yaml = {"headers": {"Content-Type": "application/yaml"}, "data": SURVEY_YAML.encode()}
    await write("validateCampaign", "", "POST", "/campaigns/validate", **yaml)
    await write("previewCampaignDefinition", "", "POST", "/campaigns/preview", **yaml)
    campaign_id = (await write("createCampaign", "campaign.create", "POST", "/campaigns", **yaml))["id"]
    imported = await write("importResidents", "residents.import", "POST", "/residents", json=RESIDENTS_EXAMPLE)
    assert (imported["accepted"], imported["rejected"]) == (1, []), imported
    csv = b"phone,language,consent_source,consent_at\n+48600100201,pl,city register,2026-03-01T12:00:00+01:00\n"
    job = await write("startResidentsImport", "residents.import", "POST", "/residents/imports", data=csv)
    await finished(api, job["id"], admin)
    hook = {"url": "http://127.0.0.1:9/hook", "events": ["campaign.status_changed"]}
    subscriber = (await write("createWebhookSubscriber", "webhook.subscribe", "POST", HOOKS, json=hook))["id"]
    for operation, action in (("launchCampaign", "launch"), ("pauseCampaign", "pause"), ("resumeCampaign", "resume")):
        await write(operation, f"campaign.{action}", "POST", f"/campaigns/{campaign_id}/{action}")
    await services.webhooks.round()  # the launch's event to the subscriber: a delivery (nobody listens at :9)
    await write("rotateWebhookSecret", "webhook.rotate", "POST", f"{HOOKS}/{subscriber}/secret")
    await write("resumeWebhookSubscriber", "webhook.resume", "POST", f"{HOOKS}/{subscriber}/resume")
    await write("replayFailedWebhookDeliveries", "webhook.replay", "POST", f"{HOOKS}/{subscriber}/replay-failed")
    deliveries = await (await api.get(f"/api/v1{HOOKS}/{subscriber}/deliveries", headers=admin)).json()
    delivery = deliveries["data"][0]["id"]
    await write("replayWebhookDelivery", "webhook.replay", "POST", f"/webhooks/deliveries/{delivery}/replay")
    await write("deleteWebhookSubscriber", "webhook.unsubscribe", "DELETE", f"{HOOKS}/{subscriber}")
    made = await write("createToken", "token.create", "POST", "/tokens", json={"label": "bi", "scopes": ["admin"]})
    await write("revokeToken", "token.revoke", "DELETE", f"/tokens/{made['id']}")
    for request in ("find", "export", "erase"):
        body = {"address": "600 100 200"}  # the example resident's, in national format
        await write(f"{request}Resident", f"resident.{request}", "POST", f"/residents/{request}", json=body)
    await write("closeCampaign", "campaign.close", "POST", f"/campaigns/{campaign_id}/close")

    declared = {route.operation_id for route in API_ROUTES if route.method != "GET"}
    assert declared == {operation for operation, _ in called}, "a write not called here: does it audit?"
    async with read_session(services.sessions) as session:
        entries = (await session.execute(select(AuditEntry).order_by(col(AuditEntry.id)))).scalars().all()
    by_token = [entry for entry in entries if (entry.actor_kind, entry.actor_id) == ("token", str(token_id))]
    assert [entry.action for entry in by_token] == [action for operation, action in called if action]
    assert "48600100" not in str([vars(entry) for entry in entries])  # no address in any entry


async def test_entries_of_a_scheduled_job_and_of_a_refused_sso_login_are_read(
    api: AppClient, services: Services
) -> None:
    """Actors without a token or a session: the retention job of `serve`, and nobody (a refused SSO
    login naming no account); the page answered 500 on them before."""
    await audit.record_apart(services.sessions, SCHEDULED, RETENTION_RUN, details={"deleted": 0}, at=services.clock())
    await record_failed_sso(services.sessions, "unknown", now=services.clock())

    page = await api.get("/api/v1/audit", headers=await auth(services, "admin"))
    assert page.status == 200, await page.text()
    actors = [entry["actor"] for entry in (await page.json())["data"][:2]]
    assert actors == [
        {"kind": "visitor", "id": "sso", "label": "an SSO login naming no account"},
        {"kind": "service", "id": "retention", "label": "the daily retention job of serve"},
    ]
