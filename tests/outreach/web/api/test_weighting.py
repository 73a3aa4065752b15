"""`?weights=&by=&trim=` on the results and export endpoints: the same weighted JSON the CLI prints,
a weight per respondent in exports, and errors at the parameter at fault."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from outreach.bootstrap import Services
from outreach.results.weighted import weighted_results
from outreach.results.weighting_request import WeightingRequest
from tests.outreach.results.weighted_fixture import YES_SHARE, answered_city
from tests.outreach.web.api.conftest import AppClient
from tests.outreach.web.api.helpers import auth


async def get(api: AppClient, services: Services, path: str, scope: str, **params: str) -> tuple[int, str]:
    response = await api.get(f"/api/v1{path}", headers=await auth(services, scope), params=params)
    return response.status, await response.text()


async def test_results_with_weights_carry_the_weighted_json(services: Services, api: AppClient) -> None:
    record = await answered_city(services)
    status, text = await get(
        api, services, f"/campaigns/{record.id}/results", "responses:read", weights="city", by="district"
    )
    assert status == 200, text
    body: dict[str, Any] = json.loads(text)
    assert body["breakdown"] is None
    # No unweighted pass: the weighted figures carry each answer's n and share, and the totals.
    assert body["questions"] == []
    assert (body["contacted"], body["respondents"], body["response_rate"]) == (16, 11, pytest.approx(11 / 16))
    flow = services.definitions.flow(record)
    k = services.settings.small_cell_k
    expected = await weighted_results(services.sessions, record, flow, WeightingRequest("city", ("district",)), k=k)
    assert body["weighted"] == json.loads(expected.model_dump_json())
    assert (body["weighted"]["margins"], body["weighted"]["method"]) == ("city", "post-stratification")
    assert body["weighted"]["questions"][0]["values"][0]["weighted_share"] == pytest.approx(YES_SHARE)
    # Without weights, nothing changes.
    status, text = await get(api, services, f"/campaigns/{record.id}/results", "responses:read")
    unweighted = json.loads(text)
    assert unweighted["weighted"] is None
    assert (unweighted["contacted"], unweighted["respondents"]) == (16, 11)
    assert [(question["id"], question["answered"]) for question in unweighted["questions"]] == [
        ("visits", 11),
        ("idea", 11),
    ]
    assert unweighted["questions"][0]["counts"] == {"yes": 5, "no": 6}


@pytest.mark.parametrize(
    ("params", "status", "at", "message"),
    [
        ({"weights": "town"}, 400, "weights", "no margins named 'town'; there are: city"),
        ({"weights": "city", "by": "district,street"}, 400, "by", "cannot weight by 'street'"),
        ({"weights": "city", "by": "sex"}, 400, "by", "unknown dimension 'sex'"),
        ({"trim": "5"}, 400, None, "name the margins with `weights`"),
        ({"collapse": "district:Oliwa=Osowa"}, 400, None, "name the margins with `weights`"),
        ({"weights": "city", "collapse": "Oliwa=Osowa"}, 400, "collapse", "DIMENSION:VALUE=NEIGHBOUR"),
        ({"weights": "city", "by": "district", "collapse": "district:Mars=Osowa"}, 400, "collapse", "lack it"),
        ({"weights": "city", "thin": "drop"}, 400, None, "invalid query parameters"),
        ({"weights": "city", "trim": "1"}, 400, None, "invalid query parameters"),
    ],
)
async def test_bad_weighting_is_an_error_at_its_parameter(
    services: Services, api: AppClient, params: dict[str, str], status: int, at: str | None, message: str
) -> None:
    record = await answered_city(services)
    got, text = await get(api, services, f"/campaigns/{record.id}/results", "responses:read", **params)
    assert got == status, text
    error = json.loads(text)["error"]
    assert message in error["message"]
    if at is not None:
        assert error["details"][0]["at"] == at


async def test_results_take_collapse_and_thin_as_the_cli_does(services: Services, api: AppClient) -> None:
    record = await answered_city(services)
    path = f"/campaigns/{record.id}/results"
    status, text = await get(
        api, services, path, "responses:read", weights="city", by="district", collapse="district:Oliwa=Osowa"
    )
    assert status == 200, text
    weighted = json.loads(text)["weighted"]
    assert [stratum["collapsed_into"] for stratum in weighted["strata"]] == ["Osowa", None]
    assert "district=Oliwa is weighted together with Osowa, as asked (--collapse)" in weighted["warnings"]
    # One group of 10: yes is Oliwa's two at weight 1 and Osowa's two at 2 of base weights summing to 14.
    assert weighted["questions"][0]["values"][0]["weighted_share"] == pytest.approx(6 / 14)
    status, text = await get(api, services, path, "responses:read", weights="city", by="district", thin="leave")
    assert status == 200, text
    weighted = json.loads(text)["weighted"]
    assert weighted["thin"] == "leave"
    assert [(s["value"], s["left_unweighted"]) for s in weighted["strata"]] == [("Oliwa", True), ("Osowa", True)]
    assert weighted["questions"][0]["values"][0]["weighted_share"] == pytest.approx(6 / 14)


async def test_weights_that_cannot_be_made_are_422(services: Services, api: AppClient) -> None:
    record = await answered_city(services)
    status, text = await get(
        api, services, f"/campaigns/{record.id}/results", "responses:read", weights="city", by="district", trim="1.01"
    )
    assert status == 422, text
    assert json.loads(text)["error"]["code"] == "cannot_weight"


async def test_exports_add_each_respondents_weight(services: Services, api: AppClient) -> None:
    record = await answered_city(services)
    status, text = await get(
        api, services, f"/campaigns/{record.id}/export.csv", "responses:rows", weights="city", by="district"
    )
    assert status == 200, text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0])[-1] == "weight"
    weights = {row["respondent"]: row["weight"] for row in rows}
    assert sorted(round(float(weight), 6) for weight in weights.values() if weight) == [round(1 / 3, 6)] * 4 + [
        round(2 / 3, 6)
    ] * 4 + [3.0, 3.0]
    status, text = await get(
        api, services, f"/campaigns/{record.id}/export.jsonl", "responses:rows", weights="city", by="district"
    )
    lines = [json.loads(line) for line in text.splitlines()]
    assert sum(line["weight"] is None for line in lines) == 2  # Mars's two answers: left out
    status, text = await get(api, services, f"/campaigns/{record.id}/export.csv", "responses:rows", weights="town")
    assert status == 400 and "no margins named 'town'" in text
    status, text = await get(api, services, f"/campaigns/{record.id}/export.csv", "responses:rows", by="district")
    assert status == 400 and "name the margins with `weights`" in text
