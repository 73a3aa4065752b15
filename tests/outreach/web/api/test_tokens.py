"""Tokens from the command line (`outreach token …`, the `tokens_app` sub-app) and over the API."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from outreach.bootstrap import Services
from outreach.cli.tokens import tokens_app
from outreach.web.api.auth import parse_lifetime, token_hash
from storage.tables import ApiToken
from tests.conftest import ManualClock
from tests.outreach.cli.invoking import invoke as invoke_app
from tests.outreach.web.api.conftest import AppClient
from tests.outreach.web.api.helpers import auth, bearer, draft, token


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.setenv("OUTREACH_DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    return CliRunner()


async def invoke(cli: CliRunner, args: list[str]) -> Result:
    return await invoke_app(cli, args, tokens_app)


async def test_token_create_prints_the_token_once_and_stores_its_hash(
    cli: CliRunner, services: Services, api: AppClient
) -> None:
    campaign_id = await draft(services)
    result = await invoke(
        cli, ["create", "--scope", "responses:read", "--campaign", "park-orunski", "--label", "portal"]
    )
    assert result.exit_code == 0, result.output
    value = result.stdout.strip()
    assert value.startswith("otr_") and "\n" not in value
    assert f"token 1 (responses:read, campaign {campaign_id}); it is shown only now:" in result.stderr
    async with services.sessions() as session:
        stored = (await session.execute(select(ApiToken))).scalar_one()
    assert (stored.token_hash, stored.scopes, stored.campaign_id, stored.label) == (
        token_hash(value),
        ["responses:read"],
        campaign_id,
        "portal",
    )
    assert value not in stored.model_dump_json()
    own = await api.get(f"/api/v1/campaigns/{campaign_id}/results", headers=bearer(value))
    assert own.status == 200

    listed = await invoke(cli, ["list"])
    assert stored.prefix in listed.stdout and value not in listed.stdout

    revoked = await invoke(cli, ["revoke", str(stored.id)])
    assert revoked.exit_code == 0
    assert (await api.get(f"/api/v1/campaigns/{campaign_id}/results", headers=bearer(value))).status == 401
    assert (await invoke(cli, ["revoke", str(stored.id)])).exit_code == 1


async def test_token_create_refuses_unknown_scopes_and_campaigns(cli: CliRunner, services: Services) -> None:
    unknown_scope = await invoke(cli, ["create", "--scope", "everything"])
    assert unknown_scope.exit_code == 2
    assert "unknown scope everything; scopes are campaigns:read, responses:read" in unknown_scope.stderr
    unknown_campaign = await invoke(cli, ["create", "--scope", "admin", "--campaign", "nope"])
    assert unknown_campaign.exit_code == 1
    assert "no campaign 'nope'" in unknown_campaign.stderr
    several = await invoke(cli, ["create", "--scope", "responses:read", "--scope", "campaigns:write"])
    assert several.exit_code == 0


async def test_admins_manage_tokens_over_the_api(services: Services, api: AppClient) -> None:
    campaign_id = await draft(services)
    headers = await auth(services, "admin")
    created = await api.post(
        "/api/v1/tokens",
        headers=headers,
        json={"label": "bi", "scopes": ["responses:read"], "campaign_id": campaign_id},
    )
    assert created.status == 201
    issued = await created.json()
    assert issued["token"].startswith("otr_") and issued["prefix"] == issued["token"][:10]
    me = await (await api.get("/api/v1/token", headers=bearer(issued["token"]))).json()
    assert (me["id"], me["scopes"], me["campaign_id"]) == (issued["id"], ["responses:read"], campaign_id)
    assert "token" not in me

    listed = await (await api.get("/api/v1/tokens", headers=headers)).json()
    assert [item["id"] for item in listed["data"]] == [1, issued["id"]]
    assert issued["token"] not in str(listed)

    revoked = await api.delete(f"/api/v1/tokens/{issued['id']}", headers=headers)
    assert revoked.status == 200 and (await revoked.json())["revoked_at"] is not None
    assert (await api.get("/api/v1/token", headers=bearer(issued["token"]))).status == 401

    itself = await api.delete("/api/v1/tokens/1", headers=headers)
    assert itself.status == 409
    assert (await api.delete("/api/v1/tokens/99", headers=headers)).status == 404
    missing = await api.post(
        "/api/v1/tokens", headers=headers, json={"label": "x", "scopes": ["admin"], "campaign_id": 99}
    )
    assert missing.status == 404
    unknown = await api.post("/api/v1/tokens", headers=headers, json={"label": "x", "scopes": ["root"]})
    assert unknown.status == 422


async def test_an_admin_token_made_by_the_cli_can_make_others(services: Services, api: AppClient) -> None:
    admin = await token(services, "admin")
    created = await api.post("/api/v1/tokens", headers=bearer(admin), json={"label": "x", "scopes": ["campaigns:read"]})
    assert created.status == 201


async def test_a_token_made_to_expire_answers_401_from_its_expiry_on(
    services: Services, api: AppClient, clock: ManualClock
) -> None:
    headers = await auth(services, "admin")
    created = await api.post(
        "/api/v1/tokens", headers=headers, json={"label": "pilot", "scopes": ["campaigns:read"], "expires_in": 3600}
    )
    assert created.status == 201
    issued = await created.json()
    assert datetime.fromisoformat(issued["expires_at"]) == clock.now + timedelta(hours=1)
    clock.advance(minutes=59)
    assert (await api.get("/api/v1/token", headers=bearer(issued["token"]))).status == 200
    clock.advance(minutes=1)
    expired = await api.get("/api/v1/token", headers=bearer(issued["token"]))
    assert expired.status == 401
    assert "expired" in (await expired.json())["error"]["message"]
    listed = await (await api.get("/api/v1/tokens", headers=headers)).json()
    assert [item["expires_at"] is None for item in listed["data"]] == [True, False]
    too_short = await api.post(
        "/api/v1/tokens", headers=headers, json={"label": "x", "scopes": ["admin"], "expires_in": 59}
    )
    assert too_short.status == 422


@pytest.mark.parametrize(
    ("written", "lifetime"),
    [
        ("12h", timedelta(hours=12)),
        ("90d", timedelta(days=90)),
        ("2w", timedelta(weeks=2)),
        (" 1D ", timedelta(days=1)),
    ],
)
def test_expiries_are_hours_days_or_weeks(written: str, lifetime: timedelta) -> None:
    assert parse_lifetime(written) == lifetime


@pytest.mark.parametrize("written", ["0d", "90", "90m", "1y", "-1d", "4000w", "1d2h", ""])
def test_other_expiries_are_refused(written: str) -> None:
    with pytest.raises(ValueError, match="whole number of hours, days or weeks"):
        parse_lifetime(written)


async def test_token_create_expires_and_list_shows_when(cli: CliRunner, services: Services) -> None:
    refused = await invoke(cli, ["create", "--scope", "admin", "--expires", "3 months"])
    assert refused.exit_code == 2 and "--expires: an expiry is a whole number" in refused.stderr
    result = await invoke(cli, ["create", "--scope", "responses:read", "--expires", "12h"])
    assert result.exit_code == 0, result.output
    async with services.sessions() as session:
        stored = (await session.execute(select(ApiToken))).scalar_one()
    assert stored.expires_at is not None and stored.expires_at - stored.created_at == timedelta(hours=12)
    assert f"expires {stored.expires_at.isoformat(timespec='minutes')}" in result.stderr
    listed = await invoke(cli, ["list"])
    assert f"expires {stored.expires_at.isoformat(timespec='minutes')}" in listed.stdout
