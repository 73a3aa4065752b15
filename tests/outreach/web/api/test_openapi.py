"""The OpenAPI document is made from the route registry: every /api/v1 route is in it, and the
reference page renders it."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from outreach.bootstrap import Services
from outreach.web.api.application import API_PREFIX, API_ROUTES
from outreach.web.app import create_app
from tests.outreach.web.api.conftest import AppClient


def api_routes_in(app: web.Application) -> set[tuple[str, str]]:
    """(method, path) of every route the running app serves under /api/v1, sub-applications included."""
    found: set[tuple[str, str]] = set()

    def walk(application: web.Application) -> None:
        for resource in application.router.resources():
            if isinstance(resource, web.PrefixedSubAppResource):
                walk(resource.get_info()["app"])  # its resources carry the prefix already
                continue
            for route in resource:
                if resource.canonical.startswith(API_PREFIX) and route.method != "HEAD":
                    found.add((route.method, resource.canonical))

    walk(app)
    return found


async def document(api: AppClient) -> dict[str, Any]:
    response = await api.get("/api/v1/openapi.json")
    assert response.status == 200
    body: dict[str, Any] = await response.json()
    return body


async def test_every_api_route_is_in_the_document(services: Services, api: AppClient) -> None:
    app = create_app(services, run_background=False)
    served = api_routes_in(app)
    assert len(served) == len(API_ROUTES) >= 17
    documented = {(method.upper(), path) for path, item in (await document(api))["paths"].items() for method in item}
    missing = served - documented
    assert not missing, f"routes missing from the OpenAPI document: {sorted(missing)}"
    assert documented == served


async def test_the_document_is_openapi_3_1_with_resolvable_references(api: AppClient) -> None:
    body = await document(api)
    assert body["openapi"] == "3.1.0"
    schemas = body["components"]["schemas"]
    for name in ("ErrorBody", "AnswerPage", "Answer", "CampaignResults", "Campaign", "ResidentsBatch"):
        assert name in schemas

    def refs(node: Any) -> list[str]:
        if isinstance(node, dict):
            found = [node["$ref"]] if "$ref" in node else []
            return found + [ref for value in node.values() for ref in refs(value)]
        if isinstance(node, list):
            return [ref for value in node for ref in refs(value)]
        return []

    for ref in refs(body):
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in schemas, ref
    operation = body["paths"]["/api/v1/campaigns/{campaign_id}/responses"]["get"]
    assert operation["x-scope"] == "responses:rows"
    assert set(operation["responses"]) == {"200", "400", "401", "403", "404", "429", "503"}
    assert operation["responses"]["429"]["headers"]["Retry-After"]["schema"]["type"] == "integer"
    for status in ("400", "401", "403"):
        assert operation["responses"][status]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorBody"
        }
    assert body["paths"]["/api/v1/openapi.json"]["get"]["security"] == []


async def test_attribute_filters_follow_the_allowlist(services: Services, api: AppClient) -> None:
    object.__setattr__(services.settings, "export_attributes", ["district", "school"])
    operation = (await document(api))["paths"]["/api/v1/campaigns/{campaign_id}/responses"]["get"]
    names = [parameter["name"] for parameter in operation["parameters"]]
    assert names == ["campaign_id", "limit", "cursor", "since", "question", "channel", "language", "district", "school"]


async def test_the_reference_page_lists_every_endpoint(api: AppClient) -> None:
    body = await document(api)
    response = await api.get("/api/v1/docs")
    assert response.status == 200
    assert response.content_type == "text/html"
    page = await response.text()
    assert "<script" not in page and "http" not in page.replace("https://", "").split("<body>", 1)[0]
    for path, item in body["paths"].items():
        assert path.replace("{", "{") in page
        for operation in item.values():
            assert f'id="{operation["operationId"]}"' in page
    assert 'id="schema-AnswerPage"' in page


def test_the_documented_body_examples_validate() -> None:
    examples = [route for route in API_ROUTES if route.body is not None]
    assert examples and all(route.body_example is not None for route in examples)
    for route in examples:
        assert route.body is not None
        route.body.model_validate(route.body_example)
