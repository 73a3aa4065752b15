"""Campaign endpoints: list, read, status with counts, create (422 with errors), launch (409), and the
residents fatigue held back."""

from __future__ import annotations

from typing import Any

from flows.campaign import Campaign
from outreach.bootstrap import Services
from outreach.campaigns.commands import close_campaign, create_campaign, launch_campaign
from outreach.campaigns.launches import LAUNCH_LEASE
from tests.conftest import ManualClock
from tests.factories import add_resident
from tests.outreach.helpers import launch_cut_by_an_outage
from tests.outreach.web.api.conftest import AppClient
from tests.outreach.web.api.helpers import auth, draft, seeded_survey

DEFINITION: dict[str, Any] = {
    "name": "Nowy przystanek",
    "languages": ["pl", "en"],
    "channels": ["sms"],
    "questions": [
        {"id": "stop", "type": "yesno", "text": {"pl": "Przystanek?", "en": "A stop?"}},
        {"id": "why", "type": "text", "text": {"pl": "Dlaczego?", "en": "Why?"}},
    ],
}


async def test_list_and_read_campaigns(services: Services, api: AppClient) -> None:
    campaign_id = await seeded_survey(services)
    headers = await auth(services, "campaigns:read")
    listed = await (await api.get("/api/v1/campaigns", headers=headers)).json()
    read = await (await api.get(f"/api/v1/campaigns/{campaign_id}", headers=headers)).json()
    assert listed == {"data": [read]}
    assert read["slug"] == "park-orunski" and read["status"] == "active"
    assert read["questions"] == [
        {"id": "visits", "type": "choice"},
        {"id": "rating", "type": "scale"},
        {"id": "idea", "type": "text"},
    ]
    assert read["launched_at"] is not None and read["closed_at"] is None


async def test_status_counts_conversations_messages_and_answers(services: Services, api: AppClient) -> None:
    campaign_id = await seeded_survey(services)
    response = await api.get(f"/api/v1/campaigns/{campaign_id}/status", headers=await auth(services, "campaigns:read"))
    status = await response.json()
    assert (status["contacted"], status["respondents"], status["answers"], status["response_rate"]) == (3, 3, 9, 1.0)
    assert status["conversations"] == {"completed": 3}
    assert sum(status["messages"].values()) > 0
    assert status["audience"] == {"launch": "opened", "opened": 3, "skipped": 0, "remaining": 0, "held_back": 0}


async def test_status_says_how_far_a_launch_cut_short_has_opened_its_audience(
    services: Services, api: AppClient, clock: ManualClock
) -> None:
    for number in range(3):
        await add_resident(services, phone=f"+4860010030{number}")
    campaign_id = await draft(services)
    headers = await auth(services, "campaigns:read")
    path = f"/api/v1/campaigns/{campaign_id}/status"
    assert (await (await api.get(path, headers=headers)).json())["audience"] == {
        "launch": None,
        "opened": 0,
        "skipped": 0,
        "remaining": 3,
        "held_back": 0,
    }
    await launch_cut_by_an_outage(services, str(campaign_id), page_size=2)
    status = await (await api.get(path, headers=headers)).json()
    assert status["audience"] == {"launch": "opening", "opened": 2, "skipped": 0, "remaining": 1, "held_back": 0}
    clock.advance(seconds=LAUNCH_LEASE.total_seconds())
    launched = await api.post(
        f"/api/v1/campaigns/{campaign_id}/launch", headers=await auth(services, "campaigns:write")
    )
    assert await launched.json() == {
        "id": campaign_id,
        "status": "active",
        "conversations_started": 1,
        "skipped": 0,
        "finished": True,
        "held_back": 0,
    }
    status = await (await api.get(path, headers=headers)).json()
    assert status["audience"] == {"launch": "opened", "opened": 3, "skipped": 0, "remaining": 0, "held_back": 0}


async def test_create_a_campaign_from_json_then_launch_it(services: Services, api: AppClient) -> None:
    headers = await auth(services, "campaigns:write")
    created = await api.post("/api/v1/campaigns", headers=headers, json=DEFINITION)
    assert created.status == 201
    campaign = await created.json()
    assert (campaign["slug"], campaign["status"], campaign["languages"]) == ("nowy-przystanek", "draft", ["pl", "en"])
    launched = await api.post(f"/api/v1/campaigns/{campaign['id']}/launch", headers=headers)
    assert launched.status == 200
    assert await launched.json() == {
        "id": campaign["id"],
        "status": "active",
        "conversations_started": 0,
        "skipped": 0,
        "finished": True,
        "held_back": 0,
    }


async def test_launch_and_status_count_the_residents_fatigue_held_back(services: Services, api: AppClient) -> None:
    for number, group in enumerate(["asked", "asked", "not asked"]):
        await add_resident(services, phone=f"+4860010030{number}", email=f"r{number}@example.org", group=group)
    for channel in ("sms", "email"):  # two campaigns lately asked two of the three
        asking = Campaign.model_validate(
            {**DEFINITION, "channels": [channel], "audience": {"where": {"group": ["asked"]}}}
        )
        record = await create_campaign(services.sessions, asking, clock=services.clock)
        await launch_campaign(services.sessions, record.slug, clock=services.clock)
    headers = await auth(services, "campaigns:write")
    created = await (await api.post("/api/v1/campaigns", headers=headers, json=DEFINITION)).json()
    launched = await api.post(f"/api/v1/campaigns/{created['id']}/launch", headers=headers)
    assert await launched.json() == {
        "id": created["id"],
        "status": "active",
        "conversations_started": 1,
        "skipped": 0,
        "finished": True,
        "held_back": 2,
    }
    status = await (await api.get(f"/api/v1/campaigns/{created['id']}/status", headers=headers)).json()
    assert status["audience"] == {"launch": "opened", "opened": 1, "skipped": 0, "remaining": 0, "held_back": 2}


async def test_a_bad_campaign_is_422_with_each_problem(services: Services, api: AppClient) -> None:
    headers = await auth(services, "campaigns:write")
    bad = {**DEFINITION, "languages": ["pl", "de"], "questions": [{"id": "q", "type": "pick", "text": {"pl": "?"}}]}
    response = await api.post("/api/v1/campaigns", headers=headers, json=bad)
    assert response.status == 422
    error = (await response.json())["error"]
    assert error["code"] == "invalid_body"
    at = {detail["at"] for detail in error["details"]}
    assert {"languages[1]", "questions[0].type"} <= at
    assert any("unknown language 'de'" in detail["message"] for detail in error["details"])
    assert all(detail["line"] == 1 and detail["column"] > 1 for detail in error["details"])  # JSON on one line

    too_long = {**DEFINITION, "name": "x" * 201}
    response = await api.post("/api/v1/campaigns", headers=headers, json=too_long)
    assert response.status == 422
    assert (await response.json())["error"]["details"] == [{"at": "name", "message": "at most 200 characters"}]

    json_headers = {**headers, "Content-Type": "application/json"}
    not_json = await api.post("/api/v1/campaigns", headers=json_headers, data=b"name: yaml?")
    assert not_json.status == 400
    assert (await not_json.json())["error"]["code"] == "invalid_json"
    as_text = await api.post("/api/v1/campaigns", headers={**headers, "Content-Type": "text/plain"}, data=b"{}")
    assert as_text.status == 415


async def test_launching_a_closed_campaign_is_409(services: Services, api: AppClient) -> None:
    campaign_id = await draft(services)
    await close_campaign(services.sessions, str(campaign_id), services.definitions, clock=services.clock)
    response = await api.post(
        f"/api/v1/campaigns/{campaign_id}/launch", headers=await auth(services, "campaigns:write")
    )
    assert response.status == 409
    assert "closed" in (await response.json())["error"]["message"]


async def test_a_sample_that_cannot_be_drawn_is_409_naming_its_key(services: Services, api: AppClient) -> None:
    await add_resident(services, phone="+48600100200", district="Oliwa")
    definition = {**DEFINITION, "audience": {"sample": {"size": 2, "strata": ["district"], "allocation": "equal"}}}
    headers = await auth(services, "campaigns:write")
    created = await (await api.post("/api/v1/campaigns", json=definition, headers=headers)).json()
    response = await api.post(f"/api/v1/campaigns/{created['id']}/launch", headers=headers)
    assert response.status == 409
    error = (await response.json())["error"]
    assert error["code"] == "conflict"
    assert "audience.sample.size: 2 is more than the 1 eligible residents" in error["message"]


async def test_unknown_ids_and_paths_are_json_404s(services: Services, api: AppClient) -> None:
    headers = await auth(services, "admin")
    for path in ("/api/v1/campaigns/7", "/api/v1/campaigns/0", "/api/v1/campaigns/abc", "/api/v1/nowhere"):
        response = await api.get(path, headers=headers)
        assert response.status == 404, path
        assert (await response.json())["error"]["code"] == "not_found"
    wrong_method = await api.put("/api/v1/campaigns", headers=headers)
    assert wrong_method.status == 405
    assert (await wrong_method.json())["error"]["code"] == "method_not_allowed"
