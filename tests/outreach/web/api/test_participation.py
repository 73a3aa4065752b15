"""GET /coverage and GET /participation: the reports' JSON with real values from the hand-computed
history, scoped and refused to tokens bound to one campaign, errors at the parameter at fault."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from outreach.bootstrap import Services
from outreach.survey.margins import Margins
from outreach.survey.margins_store import save_margins
from tests.conftest import ManualClock
from tests.factories import add_resident
from tests.outreach.participation.meter_fixture import FIRST_TIMERS, GINI, TOP_10, answered_history
from tests.outreach.web.api.conftest import AppClient
from tests.outreach.web.api.helpers import Monotonic, auth
from tests.providers import SANDBOX_SECRET
from tests.world import World, open_world


@pytest.fixture
async def world(database_url: str, clock: ManualClock, monotonic: Monotonic) -> AsyncIterator[World]:
    """conftest's world with k = 1, so that the small history shows its figures."""
    async with open_world(
        database_url, clock, api_clock=monotonic, sandbox_secret=SANDBOX_SECRET, small_cell_k=1
    ) as opened:
        yield opened


async def get(api: AppClient, headers: dict[str, str], path: str, **params: str) -> tuple[int, Any]:
    response = await api.get(f"/api/v1{path}", headers=headers, params=params)
    return response.status, json.loads(await response.text())


async def test_participation_is_the_hand_computed_meter(services: Services, api: AppClient) -> None:
    await answered_history(services)
    headers = await auth(services, "responses:read")
    status, body = await get(api, headers, "/participation", since="2027-01-01", until="2027-02-28")
    assert status == 200, body
    assert (body["respondents"], body["answers"], body["k"]) == (20, 27, 1)
    assert body["top_10_percent"] == {"residents": 2, "share": pytest.approx(TOP_10), "suppressed": False}
    assert (body["gini"], body["gini_suppressed"]) == (pytest.approx(GINI), False)
    assert {c["campaign"]: (c["respondents"], c["first_timers"]) for c in body["campaigns"]} == FIRST_TIMERS
    assert [split["by"] for split in body["splits"]] == ["channel", "district", "recruitment_source"]
    sources = next(split for split in body["splits"] if split["by"] == "recruitment_source")
    assert [(group["value"], group["respondents"]) for group in sources["groups"]] == [
        ("qr-bus-12", 8),
        ("register-2026", 12),
    ]


async def test_no_split_by_an_attribute_the_allowlist_leaves_out(services: Services, api: AppClient) -> None:
    records = await answered_history(services)
    object.__setattr__(services.settings, "export_attributes", ["age_band", "sex"])  # district may not leave
    headers = await auth(services, "responses:read")
    status, body = await get(api, headers, "/participation", since="2027-01-01", until="2027-02-28")
    assert status == 200, body
    assert [split["by"] for split in body["splits"]] == ["channel", "recruitment_source"]
    assert "Oliwa" not in json.dumps(body)
    status, body = await get(api, headers, f"/campaigns/{records['e'].id}/results")
    assert status == 200, body
    assert [split["by"] for split in body["participation"]["meter"]["splits"]] == ["channel", "recruitment_source"]
    assert "Oliwa" not in json.dumps(body)


async def test_a_top_share_of_fewer_than_k_is_withheld_and_says_so(services: Services, api: AppClient) -> None:
    await answered_history(services)
    object.__setattr__(services.settings, "small_cell_k", 2)
    headers = await auth(services, "responses:read")
    status, body = await get(api, headers, "/participation", since="2027-01-01", until="2027-02-28")
    assert status == 200, body
    # The top 1% is r1 alone: their share (5 of 27) would be their own count of answers.
    assert body["top_1_percent"] == {"residents": 1, "share": None, "suppressed": True}
    assert body["top_10_percent"] == {"residents": 2, "share": pytest.approx(TOP_10), "suppressed": False}


async def test_participation_errors_and_scopes(services: Services, api: AppClient) -> None:
    records = await answered_history(services)
    headers = await auth(services, "responses:read")
    status, body = await get(api, headers, "/participation", since="2027-02-01", until="2027-01-01")
    assert (status, body["error"]["details"][0]["at"]) == (400, "since")
    status, body = await get(api, headers, "/participation", since="soon", until="2027-01-01")
    assert status == 400
    status, body = await get(api, headers, "/participation", since="2027-01-01")
    assert status == 400
    status, body = await get(
        api, await auth(services, "campaigns:read"), "/participation", since="2027-01-01", until="2027-02-28"
    )
    assert (status, body["error"]["code"]) == (403, "insufficient_scope")
    bound = await auth(services, "responses:read", campaign_id=records["a"].id)
    status, body = await get(api, bound, "/participation", since="2027-01-01", until="2027-02-28")
    assert (status, body["error"]["code"]) == (403, "forbidden")


async def test_coverage_of_allowlisted_dimensions(services: Services, api: AppClient) -> None:
    margins = Margins(
        name="city",
        dimensions={"district": {"oliwa": 3000.0}, "income": {"high": 10.0}},  # income is not allowlisted
        labels={("district", "oliwa"): "Oliwa"},
    )
    async with services.sessions() as session, session.begin():
        await save_margins(session, margins, source="test", now=datetime(2027, 1, 1, tzinfo=UTC))
    for number in range(3):
        await add_resident(
            services, phone=f"+4860050{number:04d}", district="Oliwa", income="high", recruitment_source="reg"
        )
    headers = await auth(services, "responses:read")
    status, body = await get(api, headers, "/coverage", margins="city")
    assert status == 200, body
    assert [(s["dimension"], s["value"], s["reachable"]) for s in body["strata"]] == [("district", "Oliwa", 3)]
    assert body["strata"][0]["coverage"] == pytest.approx(0.001)
    assert body["sources"][0]["strata"] == {"district": {"Oliwa": 3}}
    status, body = await get(api, headers, "/coverage", margins="town")
    assert (status, body["error"]["details"][0]["at"]) == (400, "margins")
    assert "no margins named 'town'" in body["error"]["message"]


async def test_coverage_defaults_to_the_shipped_district_margins(services: Services, api: AppClient) -> None:
    await add_resident(services, phone="+48600510000", district="Oliwa")
    status, body = await get(api, await auth(services, "responses:read"), "/coverage")
    assert status == 200, body
    assert (body["margins"], len(body["strata"])) == ("gdansk-districts", 35)
    oliwa = next(s for s in body["strata"] if s["value"] == "Oliwa")
    assert (oliwa["population"], oliwa["reachable"]) == (22431, 1)
    assert body["strata"][-1]["value"] == "Oliwa"  # the only district anyone reached: the thickest


async def test_campaign_results_carry_the_campaigns_participation(services: Services, api: AppClient) -> None:
    records = await answered_history(services)
    headers = await auth(services, "responses:read", campaign_id=records["e"].id)  # its own: allowed
    status, body = await get(api, headers, f"/campaigns/{records['e'].id}/results")
    assert status == 200, body
    part = body["participation"]
    assert [(c["campaign"], c["first_timers"]) for c in part["meter"]["campaigns"]] == [("e", 4)]
    question = part["sampled_vs_self_enrolled"]["questions"][0]
    assert (question["sampled"]["shares"], question["self_enrolled"]["shares"]) == (
        {"yes": 1.0, "no": 0.0},
        {"yes": 0.25, "no": 0.75},
    )
    assert question["difference"] == {"yes": pytest.approx(0.75), "no": pytest.approx(-0.75)}
