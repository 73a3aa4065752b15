"""Hostile JSON bodies on every API route that takes one (outreach.web.json_bodies): 400 with a message
naming what and where, and nothing stored. Before, 100,000 brackets and a lone surrogate gave 500, and
a number too large for a float went into the store (PostgreSQL then refused it: 503)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import ColumnElement, func, select
from sqlmodel import SQLModel, col

from outreach.bootstrap import Services
from outreach.web.api.application import API_ROUTES
from outreach.web.api.registry import ApiRoute
from storage.tables import ApiToken, CampaignRecord, ContactAddress, Resident
from tests.outreach.web.api.conftest import AppClient
from tests.outreach.web.api.helpers import auth

BODY_ROUTES = [pytest.param(route, id=route.operation_id) for route in API_ROUTES if route.body is not None]
NESTED = b"[" * 100_000 + b"]" * 100_000


def first_text_made_lone_surrogate(document: Any, path: tuple[str, ...] = ()) -> tuple[Any, str] | None:
    """`document` with its first string (in document order) holding a lone surrogate, and that string's path."""
    if isinstance(document, str):
        return document + "\ud800", ".".join(path)
    items = list(document.items()) if isinstance(document, dict) else list(enumerate(document))
    if not isinstance(document, dict | list):
        return None
    for key, value in items:
        changed = first_text_made_lone_surrogate(value, (*path, str(key)))
        if changed is not None:
            copy: Any = dict(document) if isinstance(document, dict) else list(document)
            copy[key] = changed[0]
            return copy, changed[1]
    return None


async def stored_rows(services: Services) -> tuple[int, int, int, int]:
    """Campaigns, residents, addresses, and tokens other than the callers' (which the tests label "test")."""
    async with services.sessions() as session:

        async def count(table: type[SQLModel], *where: ColumnElement[bool]) -> int:
            return (await session.execute(select(func.count()).select_from(table).where(*where))).scalar_one()

        return (
            await count(CampaignRecord),
            await count(Resident),
            await count(ContactAddress),
            await count(ApiToken, col(ApiToken.label) != "test"),
        )


async def post(api: AppClient, services: Services, route: ApiRoute, body: bytes) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": "application/json"} | await auth(services, "admin")
    async with api.post(route.full_path, data=body, headers=headers) as response:
        return response.status, await response.json()


@pytest.mark.parametrize("route", BODY_ROUTES)
async def test_a_body_nested_100000_deep_is_400(route: ApiRoute, services: Services, api: AppClient) -> None:
    before = await stored_rows(services)
    status, answer = await post(api, services, route, NESTED)
    assert (status, answer["error"]["code"]) == (400, "invalid_json")
    assert "deeper than 32 levels" in answer["error"]["message"]
    assert await stored_rows(services) == before


@pytest.mark.parametrize("route", BODY_ROUTES)
async def test_a_lone_surrogate_is_400_naming_where(route: ApiRoute, services: Services, api: AppClient) -> None:
    assert route.body_example is not None
    changed = first_text_made_lone_surrogate(route.body_example)
    assert changed is not None
    document, at = changed
    before = await stored_rows(services)
    status, answer = await post(api, services, route, json.dumps(document).encode())
    assert (status, answer["error"]["code"]) == (400, "invalid_json")
    assert answer["error"]["details"] == [{"at": at, "message": answer["error"]["message"]}]
    assert "lone UTF-16 surrogate" in answer["error"]["message"]
    assert await stored_rows(services) == before


async def test_a_resident_with_a_lone_surrogate_in_consent_source_is_400(services: Services, api: AppClient) -> None:
    resident = {"phone": "+48600100200", "consent_source": "rejestr \ud800", "consent_at": "2026-03-01T12:00:00+01:00"}
    headers = await auth(services, "residents:write")
    async with api.post("/api/v1/residents", json={"residents": [resident]}, headers=headers) as response:
        assert response.status == 400
        assert (await response.json())["error"]["details"][0]["at"] == "residents.0.consent_source"
    assert await stored_rows(services) == (0, 0, 0, 0)


@pytest.mark.parametrize("number", ["1e999", "-1e999", "NaN", "Infinity"])
async def test_a_number_that_is_not_finite_is_400(number: str, services: Services, api: AppClient) -> None:
    """`budget` takes any number over 0: an infinite one reached the store before."""
    [route] = [route for route in API_ROUTES if route.operation_id == "createCampaign"]
    assert route.body_example is not None
    body = json.dumps({**route.body_example, "budget": 0.5}).replace("0.5", number).encode()
    before = await stored_rows(services)
    status, answer = await post(api, services, route, body)
    assert (status, answer["error"]["code"]) == (400, "invalid_json")
    assert await stored_rows(services) == before
