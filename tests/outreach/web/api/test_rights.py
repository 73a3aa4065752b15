"""POST /api/v1/residents/find, /export, /erase (admin only, the address in the body) and each
campaign's erasures feed: the tombstones that let a copy of the answer feed follow an erasure."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from outreach.bootstrap import Services
from storage.tables import IdempotentRequest
from tests.outreach.rights.scenario import EMAIL, NATIONAL, PHONE, answered_and_stopped
from tests.outreach.web.api.conftest import AppClient
from tests.outreach.web.api.helpers import auth, past_the_horizon


async def _post(api: AppClient, headers: dict[str, str], path: str, address: str) -> tuple[int, Any]:
    response = await api.post(f"/api/v1/residents/{path}", headers=headers, json={"address": address})
    return response.status, await response.json()


async def _feed(api: AppClient, headers: dict[str, str], campaign_id: int, what: str, **params: str) -> Any:
    response = await api.get(f"/api/v1/campaigns/{campaign_id}/{what}", headers=headers, params=params)
    assert response.status == 200, await response.text()
    return await response.json()


async def test_an_admin_finds_exports_and_erases_a_resident(services: Services, api: AppClient) -> None:
    scenario = await answered_and_stopped(services)
    admin = await auth(services, "admin")
    status, found = await _post(api, admin, "find", NATIONAL)
    assert (status, found) == (
        200,
        {
            "residents": [
                {"resident": scenario.pseudonym, "channels": ["email", "sms", "telegram"], "campaigns": 2, "answers": 4}
            ]
        },
    )
    status, exported = await _post(api, admin, "export", EMAIL.lower())
    assert status == 200 and exported["residents"][0]["resident"] == scenario.pseudonym
    assert PHONE in {address["address"] for address in exported["residents"][0]["addresses"]}

    rows = await auth(services, "responses:rows")
    await past_the_horizon(services)
    copy = await _feed(api, rows, scenario.survey_id, "responses")
    old = {answer["respondent"] for answer in copy["data"]}
    status, erased = await _post(api, admin, "erase", PHONE)
    assert status == 200
    assert erased == {
        "resident": scenario.pseudonym,
        "addresses": 3,
        "campaigns": 2,
        "answers": 4,
        "messages_received": 5,
        "messages_sent": erased["messages_sent"],
        "suppressed": 3,
    }
    assert (await _post(api, admin, "find", PHONE)) == (200, {"residents": []})
    assert (await _post(api, admin, "erase", PHONE))[0] == 404

    # The answer feed's copy learns which of its respondent ids went; the answers stay, re-keyed.
    await past_the_horizon(services)
    notices = await _feed(api, rows, scenario.survey_id, "erasures")
    [notice] = notices["data"]
    assert notice["respondent"] in old and notice["erased_on"] == services.clock().date().isoformat()
    assert notices["next_cursor"] is None
    later = await _feed(api, rows, scenario.survey_id, "erasures", since=notices["watermark"])
    assert later["data"] == []
    again = await _feed(api, rows, scenario.survey_id, "responses")
    assert len(again["data"]) == len(copy["data"])
    assert notice["respondent"] not in {answer["respondent"] for answer in again["data"]}


async def test_the_erasures_feed_pages_with_cursors(services: Services, api: AppClient) -> None:
    scenario = await answered_and_stopped(services)
    admin = await auth(services, "admin")
    for phone in ("+48600100201", "+48600100202", PHONE):
        assert (await _post(api, admin, "erase", phone))[0] == 200
    rows = await auth(services, "responses:rows", campaign_id=scenario.survey_id)
    await past_the_horizon(services)
    first = await _feed(api, rows, scenario.survey_id, "erasures", limit="2")
    assert len(first["data"]) == 2 and first["next_cursor"] is not None
    second = await _feed(api, rows, scenario.survey_id, "erasures", limit="2", cursor=first["next_cursor"])
    assert len(second["data"]) == 1 and second["next_cursor"] is None
    respondents = {notice["respondent"] for notice in first["data"] + second["data"]}
    assert len(respondents) == 3


async def test_only_an_admin_may_ask_and_the_address_never_goes_in_a_url(services: Services, api: AppClient) -> None:
    await answered_and_stopped(services)
    for scopes in (("residents:write",), ("responses:rows",), ("campaigns:write",)):
        headers = await auth(services, *scopes)
        for path in ("find", "export", "erase"):
            assert (await _post(api, headers, path, PHONE))[0] == 403, (scopes, path)
    response = await api.get("/api/v1/openapi.json")
    paths: dict[str, Any] = (await response.json())["paths"]
    for path in ("/api/v1/residents/find", "/api/v1/residents/export", "/api/v1/residents/erase"):
        assert list(paths[path]) == ["post"] and "parameters" not in paths[path]["post"]
    assert "/api/v1/campaigns/{campaign_id}/erasures" in paths
    bad = await api.post("/api/v1/residents/find", headers=await auth(services, "admin"), json={"address": ""})
    assert bad.status == 422


async def test_an_idempotency_key_keeps_nothing_of_a_request_naming_an_address(
    services: Services, api: AppClient
) -> None:
    await answered_and_stopped(services)
    headers = {**await auth(services, "admin"), "Idempotency-Key": "erase-1"}
    for path in ("find", "export", "erase"):
        assert (await _post(api, headers, path, PHONE))[0] == 200
    async with services.sessions() as session:
        kept = (await session.execute(select(func.count()).select_from(IdempotentRequest))).scalar_one()
    assert kept == 0
