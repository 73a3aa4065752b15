"""What the API answers when the store fails a write (outreach.web.api.errors.json_errors): a value
the store refused is 422 (a duplicate of a unique value 409) with the reason, because retrying would
fail forever; an outage is 503, retry later. Before, every database error was 503 "retry later".

The writes are real statements on the test database that the store refuses (a row without its required
label, a second row with the same token hash), run by a handler behind the API's own middleware: the
routes check what they can before writing, so this is what is left when a check misses something.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import insert

from outreach.bootstrap import Services
from outreach.web.api.errors import json_errors
from storage.tables import ApiToken
from tests.world import store_outage

NOW = datetime(2027, 3, 2, 10, 0, tzinfo=UTC)
Write = Callable[[Services], Awaitable[None]]


async def token_row(services: Services, **changes: Any) -> None:
    row = {"token_hash": "a" * 64, "prefix": "otr_aaaa", "label": "portal", "scopes": [], "created_at": NOW}
    async with services.sessions() as session, session.begin():
        await session.execute(insert(ApiToken).values(row | changes))


async def without_its_label(services: Services) -> None:
    await token_row(services, label=None)


async def the_same_hash_twice(services: Services) -> None:
    await token_row(services)
    await token_row(services)


@asynccontextmanager
async def api_writing(services: Services, write: Write) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    async def handler(request: web.Request) -> web.Response:
        await write(services)
        return web.json_response({"written": True})

    app = web.Application(middlewares=[json_errors])
    app.router.add_post("/write", handler)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client


@pytest.mark.parametrize(
    ("write", "status", "code", "reason"),
    [
        pytest.param(
            without_its_label,
            422,
            "data_rejected",
            "a required value is missing (column label, table api_tokens) [SQLSTATE 23502]",
            id="not null",
        ),
        pytest.param(
            the_same_hash_twice,
            409,
            "conflict",
            "a value that must be unique is already stored",
            id="unique",
        ),
    ],
)
async def test_a_value_the_store_refuses_is_4xx_with_the_reason(
    services: Services, write: Write, status: int, code: str, reason: str
) -> None:
    async with api_writing(services, write) as client, client.post("/write") as response:
        body = await response.json()
    assert (response.status, body["error"]["code"]) == (status, code)
    [detail] = body["error"]["details"]
    assert detail["message"].startswith(reason)
    assert body["error"]["message"] == f"the store refused this request: {detail['message']}"


async def test_a_duplicate_names_the_constraint_or_column_and_its_sqlstate(services: Services) -> None:
    async with api_writing(services, the_same_hash_twice) as client, client.post("/write") as response:
        [detail] = (await response.json())["error"]["details"]
    assert "token_hash" in detail["message"] and detail["message"].endswith("[SQLSTATE 23505]")
    assert "aaaa" not in detail["message"]  # never the value


async def test_an_outage_is_503_retry_later(services: Services) -> None:
    async with api_writing(services, without_its_label) as client:
        async with store_outage(services), client.post("/write") as response:
            body = await response.json()
        assert (response.status, body["error"]["code"]) == (503, "store_unavailable")
