"""Every endpoint checks the token (401), its scope (403), the campaign it may see (403), and the
per-token rate limit (429 with Retry-After)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from outreach.bootstrap import Services
from outreach.web.api.application import API_ROUTES
from outreach.web.api.auth import token_hash
from outreach.web.api.registry import ANY_SCOPE, ApiRoute
from storage.tables import ApiToken
from storage.tokens import TokenRepository
from tests.conftest import ManualClock
from tests.outreach.web.api.conftest import AppClient
from tests.outreach.web.api.helpers import Monotonic, auth, bearer, draft, seeded_survey, token

PROTECTED = [route for route in API_ROUTES if route.scope is not None]
# A scope that does not grant each route's scope.
OTHER_SCOPE = {
    "campaigns:read": "residents:write",
    "responses:read": "campaigns:write",
    "responses:rows": "responses:read",
    "campaigns:write": "responses:read",
    "residents:write": "responses:read",
    "admin": "responses:read",
}
BODIES: dict[str, Any] = {
    "createCampaign": {"name": "x", "languages": ["pl"], "channels": ["sms"], "questions": []},
    "importResidents": {"residents": [{"phone": "+48600100299"}]},
    "createToken": {"label": "x", "scopes": ["responses:read"]},
}


def url(route: ApiRoute, campaign_id: int = 1, token_id: int = 1) -> str:
    """The route's path with these ids; any other id (an import job's, a subscriber's) is 1."""
    ids = {name: 1 for name in route.path_parameters} | {"campaign_id": campaign_id, "token_id": token_id}
    return route.full_path.format(**ids)


async def call(api: AppClient, route: ApiRoute, headers: dict[str, str], **ids: int) -> tuple[int, dict[str, Any]]:
    response = await api.request(route.method, url(route, **ids), headers=headers, json=BODIES.get(route.operation_id))
    body = await response.json() if response.content_type == "application/json" else {}
    return response.status, body


@pytest.mark.parametrize("route", PROTECTED, ids=lambda route: route.operation_id)
async def test_every_endpoint_answers_401_without_a_valid_token(
    services: Services, api: AppClient, route: ApiRoute
) -> None:
    campaign_id = await draft(services)
    revoked = await token(services, "admin")
    async with services.sessions() as session, session.begin():
        found = await TokenRepository(session).by_hash(token_hash(revoked))
        assert found is not None and found.id is not None
        await TokenRepository(session).revoke(found.id, now=services.clock())
    for headers in (
        {},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer"},
        bearer("otr_not-a-token-anyone-was-given"),
        bearer(revoked),
    ):
        status, body = await call(api, route, headers, campaign_id=campaign_id)
        assert status == 401, (route.operation_id, headers)
        assert body["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("route", [r for r in PROTECTED if r.scope != ANY_SCOPE], ids=lambda route: route.operation_id)
async def test_every_endpoint_answers_403_to_a_token_without_its_scope(
    services: Services, api: AppClient, route: ApiRoute
) -> None:
    campaign_id = await draft(services)
    assert route.scope is not None
    status, body = await call(api, route, await auth(services, OTHER_SCOPE[route.scope]), campaign_id=campaign_id)
    assert status == 403
    assert body["error"] == {"code": "insufficient_scope", "message": f"this token lacks the scope {route.scope}"}


@pytest.mark.parametrize(
    "route", [r for r in PROTECTED if "{campaign_id}" in r.path], ids=lambda route: route.operation_id
)
async def test_a_token_bound_to_one_campaign_gets_403_on_another(
    services: Services, api: AppClient, route: ApiRoute
) -> None:
    first = await draft(services)
    headers = await auth(services, "admin", campaign_id=first)
    for other in (first + 1, 999):  # another campaign, existing or not: no difference is shown
        status, body = await call(api, route, headers, campaign_id=other)
        assert status == 403
        assert body["error"]["code"] == "forbidden_campaign"
    status, _ = await call(api, route, await auth(services, "admin"), campaign_id=999)
    assert status == 404


@pytest.mark.parametrize("route", [r for r in PROTECTED if r.unbound_only], ids=lambda route: route.operation_id)
async def test_a_campaign_bound_token_cannot_act_outside_its_campaign(
    services: Services, api: AppClient, route: ApiRoute
) -> None:
    campaign_id = await draft(services)
    status, body = await call(api, route, await auth(services, "admin", campaign_id=campaign_id))
    assert status == 403
    assert body["error"]["code"] == "forbidden"


async def test_a_bound_token_lists_only_its_campaign(services: Services, api: AppClient) -> None:
    first = await draft(services)
    second = await draft(services)
    listed = await api.get("/api/v1/campaigns", headers=await auth(services, "campaigns:read", campaign_id=second))
    assert [campaign["id"] for campaign in (await listed.json())["data"]] == [second]
    everything = await api.get("/api/v1/campaigns", headers=await auth(services, "campaigns:read"))
    assert [campaign["id"] for campaign in (await everything.json())["data"]] == [first, second]
    own = await api.get(
        f"/api/v1/campaigns/{second}/responses", headers=await auth(services, "responses:rows", campaign_id=second)
    )
    assert own.status == 200


async def test_scopes_imply_reading_campaigns(services: Services, api: AppClient) -> None:
    campaign_id = await draft(services)
    for scope in ("campaigns:read", "responses:read", "responses:rows", "campaigns:write", "admin"):
        response = await api.get(f"/api/v1/campaigns/{campaign_id}", headers=await auth(services, scope))
        assert response.status == 200, scope
    answers = await api.get(
        f"/api/v1/campaigns/{campaign_id}/responses", headers=await auth(services, "campaigns:read")
    )
    assert answers.status == 403


ROW_ROUTES = {"listResponses", "listErasures", "exportCsv", "exportJsonl", "exportFlowResults"}


async def test_answers_row_by_row_need_the_rows_scope_and_aggregates_do_not(services: Services, api: AppClient) -> None:
    """Rows (the answer feed, the exports) can single a respondent out; counts cannot: a token made for
    aggregates gets 403 on rows, and only a token with responses:rows (or admin) reads them."""
    campaign_id = await seeded_survey(services)
    assert {route.operation_id for route in API_ROUTES if route.scope == "responses:rows"} == ROW_ROUTES
    aggregates, rows = await auth(services, "responses:read"), await auth(services, "responses:rows")
    for route in PROTECTED:
        if route.method != "GET" or "{campaign_id}" not in route.path:
            continue
        status, body = await call(api, route, aggregates, campaign_id=campaign_id)
        if route.operation_id in ROW_ROUTES:
            assert status == 403, route.operation_id
            assert body["error"]["message"] == "this token lacks the scope responses:rows"
        else:
            assert status == 200, route.operation_id
        assert (await call(api, route, rows, campaign_id=campaign_id))[0] == 200, route.operation_id


async def test_the_rate_limit_answers_429_with_retry_after_per_token(
    services: Services, api: AppClient, monotonic: Monotonic
) -> None:
    limit = 120  # per minute: a burst of 120, then one more every half second
    busy = await auth(services, "campaigns:read")
    for _ in range(limit):
        assert (await api.get("/api/v1/campaigns", headers=busy)).status == 200
    refused = await api.get("/api/v1/campaigns", headers=busy)
    assert refused.status == 429
    assert refused.headers["Retry-After"] == "1"
    assert (await refused.json())["error"]["code"] == "rate_limited"
    other = await api.get("/api/v1/campaigns", headers=await auth(services, "campaigns:read"))
    assert other.status == 200  # another token has its own bucket
    monotonic.advance(0.5)
    assert (await api.get("/api/v1/campaigns", headers=busy)).status == 200
    assert (await api.get("/api/v1/campaigns", headers=busy)).status == 429
    monotonic.advance(60)
    for _ in range(limit):
        assert (await api.get("/api/v1/campaigns", headers=busy)).status == 200


async def test_the_rate_limit_follows_the_setting(services: Services, api: AppClient, monotonic: Monotonic) -> None:
    object.__setattr__(services.settings, "api_rate_limit_per_minute", 2)
    headers = await auth(services, "campaigns:read")
    statuses = [(await api.get("/api/v1/campaigns", headers=headers)).status for _ in range(3)]
    assert statuses == [200, 200, 429]
    last = await api.get("/api/v1/campaigns", headers=headers)
    assert last.headers["Retry-After"] == "30"
    monotonic.advance(30)
    assert (await api.get("/api/v1/campaigns", headers=headers)).status == 200


async def test_only_the_hash_is_stored_and_last_use_is_written_sparingly(
    services: Services, api: AppClient, clock: ManualClock
) -> None:
    value = await token(services, "campaigns:read")
    assert value.startswith("otr_") and len(value) > 40
    async with services.sessions() as session:
        stored = (await session.execute(select(ApiToken))).scalar_one()
    assert stored.token_hash == token_hash(value) and value not in stored.model_dump_json()
    assert stored.last_used_at is None

    async def last_used() -> Any:
        async with services.sessions() as session:
            return (await session.execute(select(col(ApiToken.last_used_at)))).scalar_one()

    await api.get("/api/v1/campaigns", headers=bearer(value))
    first = await last_used()
    assert first == clock.now
    clock.advance(minutes=5)
    await api.get("/api/v1/campaigns", headers=bearer(value))
    assert await last_used() == first  # not rewritten on every request
    clock.advance(minutes=6)
    await api.get("/api/v1/campaigns", headers=bearer(value))
    assert await last_used() == first + timedelta(minutes=11)


async def test_401_says_how_to_authenticate(api: AppClient) -> None:
    response = await api.get("/api/v1/campaigns")
    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert await response.json() == {
        "error": {"code": "unauthorized", "message": "a token is needed: Authorization: Bearer <token>"}
    }
