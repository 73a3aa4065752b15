"""The campaign writes of /api/v1: a definition in YAML or JSON, checked as the CLI checks a file
(errors located by line and column), validated or previewed without storing, created once per
Idempotency-Key; launch, pause, resume and close as the CLI's commands, each audited as the token's."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from outreach.bootstrap import Services
from outreach.web.api.auth import issue_token
from storage.tables import AuditEntry, CampaignRecord
from tests.factories import add_resident
from tests.outreach.web.api.conftest import AppClient
from tests.outreach.web.api.helpers import SURVEY_YAML, auth, bearer, draft

YAML = {"Content-Type": "application/yaml"}
BROKEN_YAML = SURVEY_YAML.replace("    type: scale\n", "    type: slider\n").replace(
    "languages: [pl, en]", "languages: [pl, en\n"
)


async def _campaigns(services: Services) -> int:
    async with services.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(CampaignRecord))).scalar_one())


async def _actions(services: Services) -> list[tuple[str, str, str | None]]:
    async with services.sessions() as session:
        entries = (await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars()  # type: ignore[arg-type]
        return [(entry.action, entry.actor_label, entry.target_id) for entry in entries]


# (method, path, body) of every write; {id} is a draft campaign's id
WRITES: list[tuple[str, str, str | None]] = [
    ("POST", "/api/v1/campaigns", SURVEY_YAML),
    ("POST", "/api/v1/campaigns/validate", SURVEY_YAML),
    ("POST", "/api/v1/campaigns/preview", SURVEY_YAML),
    ("POST", "/api/v1/campaigns/{id}/launch", None),
    ("POST", "/api/v1/campaigns/{id}/pause", None),
    ("POST", "/api/v1/campaigns/{id}/resume", None),
    ("POST", "/api/v1/campaigns/{id}/close", None),
]


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
@pytest.mark.parametrize("scope", ["campaigns:read", "responses:rows", "residents:write"])
async def test_a_token_without_campaigns_write_gets_403_on_every_write(
    services: Services, api: AppClient, scope: str, method: str, path: str, body: str | None
) -> None:
    campaign_id = await draft(services)
    response = await api.request(
        method, path.format(id=campaign_id), headers={**await auth(services, scope), **YAML}, data=body
    )
    assert response.status == 403
    assert (await response.json())["error"]["code"] == "insufficient_scope"
    assert await _campaigns(services) == 1


@pytest.mark.parametrize("body_type", ["yaml", "json"])
async def test_a_retried_create_with_the_same_key_creates_one_campaign_and_replays_its_answer(
    services: Services, api: AppClient, body_type: str
) -> None:
    headers = {**await auth(services, "campaigns:write"), "Idempotency-Key": "5f0c6a3e-create-1"}
    if body_type == "yaml":
        send: dict[str, Any] = {"data": SURVEY_YAML.encode(), "headers": {**headers, **YAML}}
    else:
        send = {"json": _as_json(SURVEY_YAML), "headers": headers}
    first = await api.post("/api/v1/campaigns", **send)
    assert first.status == 201, await first.text()
    again = await api.post("/api/v1/campaigns", **send)
    assert again.status == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert await again.json() == await first.json()
    assert await _campaigns(services) == 1
    assert [action for action, _, _ in await _actions(services)] == ["campaign.create"]

    other_body = SURVEY_YAML.replace("name: Park Oruński", "name: Park Oliwski")
    reused = await api.post("/api/v1/campaigns", data=other_body.encode(), headers={**headers, **YAML})
    assert reused.status == 422
    assert (await reused.json())["error"]["code"] == "idempotency_key_reused"
    assert await _campaigns(services) == 1

    # Keys are each token's own: another token's same key is another request.
    elsewhere = {**await auth(services, "campaigns:write"), "Idempotency-Key": "5f0c6a3e-create-1"}
    assert (await api.post("/api/v1/campaigns", data=SURVEY_YAML.encode(), headers={**elsewhere, **YAML})).status == 201
    assert await _campaigns(services) == 2


def _as_json(yaml_text: str) -> dict[str, Any]:
    from flows.loader import load_campaign

    return load_campaign(yaml_text).model_dump(mode="json", exclude_unset=True)


async def test_a_refused_write_is_replayed_too_and_a_bad_key_is_400(services: Services, api: AppClient) -> None:
    campaign_id = await draft(services)
    headers = {**await auth(services, "campaigns:write"), "Idempotency-Key": "pause-1"}
    refused = await api.post(f"/api/v1/campaigns/{campaign_id}/pause", headers=headers)
    assert refused.status == 409  # a draft does not pause
    again = await api.post(f"/api/v1/campaigns/{campaign_id}/pause", headers=headers)
    assert again.status == 409 and again.headers["Idempotent-Replayed"] == "true"
    bad = await api.post(f"/api/v1/campaigns/{campaign_id}/pause", headers={**headers, "Idempotency-Key": "a b"})
    assert bad.status == 400 and (await bad.json())["error"]["code"] == "invalid_idempotency_key"


async def test_a_broken_yaml_body_is_422_with_each_error_at_its_line_and_column(
    services: Services, api: AppClient
) -> None:
    headers = {**await auth(services, "campaigns:write"), **YAML}
    syntax = await api.post("/api/v1/campaigns", headers=headers, data=BROKEN_YAML.encode())
    assert syntax.status == 422
    [error] = (await syntax.json())["error"]["details"]
    assert error["message"].startswith("YAML syntax error") and error["line"] > 3

    wrong_type = SURVEY_YAML.replace("    type: scale\n", "    type: slider\n")
    response = await api.post("/api/v1/campaigns/validate", headers=headers, data=wrong_type.encode())
    assert response.status == 422
    body = await response.json()
    line = 1 + wrong_type.splitlines().index("    type: slider")
    assert {"at": "questions[1].type", "path": "questions[1].type", "line": line, "column": 11} == {
        key: body["error"]["details"][0][key] for key in ("at", "path", "line", "column")
    }
    assert await _campaigns(services) == 0


async def test_validate_and_preview_store_nothing(services: Services, api: AppClient) -> None:
    await add_resident(services, phone="+48600100200", language="pl")
    await add_resident(services, phone="+48600100201", language="en")
    await add_resident(services, email="r@example.org", language="pl")
    headers = {**await auth(services, "campaigns:write"), **YAML}
    checked = await api.post("/api/v1/campaigns/validate", headers=headers, data=SURVEY_YAML.encode())
    assert checked.status == 200
    assert (await checked.json()) | {"warnings": []} == {
        "valid": True,
        "name": "Park Oruński",
        "languages": ["pl", "en"],
        "channels": ["sms", "email"],
        "questions": 3,
        "warnings": [],
    }
    preview = await (await api.post("/api/v1/campaigns/preview", headers=headers, data=SURVEY_YAML.encode())).json()
    assert [(texts["channel"], texts["language"]) for texts in preview["texts"]] == [
        ("sms", "pl"),
        ("sms", "en"),
        ("email", "pl"),
        ("email", "en"),
    ]
    sms_pl = preview["texts"][0]["messages"]
    assert sms_pl[0]["segments"] >= 1 and sms_pl[0]["encoding"] in ("GSM-7", "UCS-2")
    assert preview["texts"][2]["messages"][0]["segments"] is None  # email: no segments
    assert preview["asked"] == 3 and preview["sample"] is None and preview["campaign_id"] is None
    assert preview["sms"]["residents"] == {"en": 1, "pl": 1}
    assert 0 < preview["sms"]["floor_segments"] <= preview["sms"]["ceiling_segments"]
    assert await _campaigns(services) == 0


async def test_a_sampled_campaigns_preview_shows_its_allocation(services: Services, api: AppClient) -> None:
    for number, district in enumerate(["Oliwa", "Oliwa", "Orunia", "Orunia"]):
        await add_resident(services, phone=f"+4860010020{number}", district=district)
    sampled = SURVEY_YAML.replace(
        "channels: [sms, email]\n",
        "channels: [sms, email]\naudience:\n  sample: {size: 2, strata: [district], allocation: equal, seed: 7}\n",
    )
    headers = {**await auth(services, "campaigns:write"), **YAML}
    created = await (await api.post("/api/v1/campaigns", headers=headers, data=sampled.encode())).json()
    preview = await (await api.get(f"/api/v1/campaigns/{created['id']}/preview", headers=headers)).json()
    sample = preview["sample"]
    assert (sample["size"], sample["allocated"], sample["eligible"], sample["seed"]) == (2, 2, 4, 7)
    assert [(s["stratum"], s["allocated"]) for s in sample["allocation"]] == [("Oliwa", 1), ("Orunia", 1)]
    assert preview["asked"] == 2 and preview["campaign_id"] == created["id"]


async def test_launch_pause_resume_close_through_the_api_each_audited_as_the_token(
    services: Services, api: AppClient
) -> None:
    await add_resident(services, phone="+48600100200")
    issued = await issue_token(
        services.sessions, scopes=["campaigns:write"], label="consultation platform", now=services.clock()
    )
    headers = bearer(issued.token)
    created = await (await api.post("/api/v1/campaigns", headers={**headers, **YAML}, data=SURVEY_YAML)).json()
    path = f"/api/v1/campaigns/{created['id']}"
    steps = [("launch", 200, "active"), ("pause", 200, "paused"), ("pause", 409, None), ("resume", 200, "active")]
    steps += [("close", 200, "closed"), ("close", 409, None), ("launch", 409, None)]
    for step, status, campaign_status in steps:
        response = await api.post(f"{path}/{step}", headers=headers)
        assert response.status == status, (step, await response.text())
        if campaign_status is not None:
            assert (await response.json())["status"] == campaign_status
    target = str(created["id"])
    assert await _actions(services) == [
        (f"campaign.{step}", "consultation platform", target)
        for step in ("create", "launch", "pause", "resume", "close")
    ]
    assert json.dumps(await _actions(services)).find("+48") == -1
