"""The OpenAPI 3.1 document, made at run time from the route registry and the pydantic models the
handlers use, and a plain HTML reference page rendered from that document (no scripts, no CDN)."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from flows.campaign import Campaign
from outreach.web.api.auth import SCOPES
from outreach.web.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from outreach.web.api.idempotency import KEY_LIFETIME
from outreach.web.api.models import MAX_ID, ErrorBody
from outreach.web.api.registry import ANY_SCOPE, ApiRoute, Call

REF_TEMPLATE = "#/components/schemas/{model}"
References = Mapping[Any, dict[str, Any]]  # (model, mode) -> {"$ref": ...}
API_VERSION = "1.0.0"
IDEMPOTENCY_PARAMETER = {
    "name": IDEMPOTENCY_HEADER,
    "in": "header",
    "required": False,
    "description": f"Any unique text (a UUID): a retry with the same key and the same request replays the first"
    f" answer instead of acting again, for {KEY_LIFETIME.total_seconds() / 3600:.0f} hours. Keys are the token's own.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
}
ROUTE_TABLE = web.AppKey("api_route_table", list[ApiRoute])

INTRO = """Read what residents answered, as it arrives, without ever learning who they are.

Every request (except this document and its reference page) carries `Authorization: Bearer <token>`.
A token is made with `outreach token create --scope SCOPE [--campaign ID]` (or POST /api/v1/tokens with an
admin token); it is shown once and only its hash is kept. Each endpoint needs one scope; a token bound to one
campaign gets 403 on any other. Each token may make a limited number of requests a minute: beyond it, 429
with Retry-After (seconds).

Respondents appear only as pseudonyms, stable within a campaign and unlinkable across campaigns; addresses
never leave the service; only allowlisted attributes appear; answer texts only for text questions.

Every error is JSON: {"error": {"code": "...", "message": "...", "details": [...]}}.

Every POST takes an `Idempotency-Key` header: a retried write with the same key acts once and gets the
first answer again."""

TAGS = [
    {
        "name": "campaigns",
        "description": "Campaigns: read them; create, check, preview, launch, pause, resume, close.",
    },
    {"name": "answers", "description": "Answers (incremental sync) and aggregated results."},
    {"name": "exports", "description": "CSV and JSON Lines exports, streamed; the data dictionary."},
    {"name": "residents", "description": "Adding residents (write only)."},
    {"name": "tokens", "description": "API tokens."},
    {"name": "audit", "description": "Who did what, when: the audit log (admin)."},
    {"name": "webhooks", "description": "Outgoing webhooks: subscribers, deliveries, replays (docs/API.md)."},
    {"name": "reference", "description": "This document and its reference page."},
]

_ERROR_TEXTS = {
    400: "Invalid parameter, filter, cursor or JSON.",
    401: "No token, or an unknown, revoked or expired one.",
    403: "The token lacks the scope, or may not see this campaign.",
    404: "No such object.",
    409: "A request with this Idempotency-Key is still running; retry later.",
    413: "The body is too large.",
    415: "The body is neither application/json nor application/yaml.",
    422: "The body does not validate (`details` says where), or the Idempotency-Key was used for another request.",
    429: "Too many requests with this token; retry after Retry-After seconds.",
    503: "The store is unavailable; retry later.",
}


def _models(routes: Sequence[ApiRoute]) -> list[tuple[type[BaseModel], JsonSchemaMode]]:
    wanted: list[tuple[type[BaseModel], JsonSchemaMode]] = [(ErrorBody, "serialization")]
    for route in routes:
        if route.body is not None:
            wanted.append((route.body, "validation"))
        if route.definition_body:
            wanted.append((Campaign, "validation"))
        if route.response is not None:
            wanted.append((route.response, "serialization"))
    return list(dict.fromkeys(wanted))


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent or a string: `X | None` becomes X."""
    schema = {key: value for key, value in schema.items() if key not in ("title", "default")}
    options = schema.get("anyOf")
    if isinstance(options, list):
        others = [option for option in options if option != {"type": "null"}]
        if len(others) == 1:
            rest = {key: value for key, value in schema.items() if key != "anyOf"}
            return {**others[0], **rest}
    return schema


def _query_parameters(route: ApiRoute, attributes: Sequence[str]) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = []
    if route.query is None:
        return parameters
    schema = route.query.model_json_schema(ref_template=REF_TEMPLATE)
    required = set(schema.get("required", []))
    for name, prop in schema.get("properties", {}).items():
        parameter: dict[str, Any] = {"name": name, "in": "query", "required": name in required}
        if "description" in prop:
            parameter["description"] = prop["description"]
        parameter["schema"] = {key: value for key, value in _without_null(prop).items() if key != "description"}
        parameters.append(parameter)
    if route.attribute_filters:
        for name in attributes:
            if name in route.query.model_fields:
                continue
            parameters.append(
                {
                    "name": name,
                    "in": "query",
                    "required": False,
                    "description": f"Only respondents whose {name} is this value (an allowlisted attribute).",
                    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                }
            )
    return parameters


def _path_parameters(route: ApiRoute) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        }
        for name in route.path_parameters
    ]


def _error(status: int, text: str, error_ref: dict[str, Any]) -> dict[str, Any]:
    response: dict[str, Any] = {"description": text, "content": {"application/json": {"schema": error_ref}}}
    if status == 429:
        response["headers"] = {
            "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer", "minimum": 1}}
        }
    if status == 401:
        response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
    return response


def _success(route: ApiRoute, refs: References) -> dict[str, Any]:
    if route.response is not None:
        schema = refs[(route.response, "serialization")]
    elif route.media_type == "application/json":
        schema = {"type": "object"}
    else:
        schema = {"type": "string"}
    return {"description": route.summary, "content": {route.media_type: {"schema": schema}}}


def _operation(route: ApiRoute, refs: References, attributes: Sequence[str]) -> dict[str, Any]:
    error_ref = refs[(ErrorBody, "serialization")]
    description = route.description
    if route.scope == ANY_SCOPE:
        description += "\n\nScope: any valid token."
    elif route.scope is not None:
        description += f"\n\nScope: `{route.scope}`."
    if route.unbound_only:
        description += " Not for a token bound to one campaign."
    operation: dict[str, Any] = {
        "operationId": route.operation_id,
        "summary": route.summary,
        "description": description.strip(),
        "tags": [route.tag],
    }
    if route.scope is None:
        operation["security"] = []
    else:
        operation["x-scope"] = route.scope
    parameters = _path_parameters(route) + _query_parameters(route, attributes)
    if route.method == "POST" and route.scope is not None and route.idempotent:
        parameters.append(IDEMPOTENCY_PARAMETER)
    if parameters:
        operation["parameters"] = parameters
    if route.body is not None:
        media: dict[str, Any] = {"schema": refs[(route.body, "validation")]}
        if route.body_example is not None:
            media["example"] = route.body_example
        operation["requestBody"] = {"required": True, "content": {"application/json": media}}
    if route.upload is not None:
        upload = {"schema": {"type": "string", "contentMediaType": route.upload}}
        operation["requestBody"] = {"required": True, "content": {route.upload: upload}}
    if route.definition_body:
        json_media: dict[str, Any] = {"schema": refs[(Campaign, "validation")]}
        if route.body_example is not None:
            json_media["example"] = route.body_example
        yaml_media = {"schema": {"type": "string", "description": "The campaign file, as `outreach` reads it."}}
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": json_media, "application/yaml": yaml_media},
        }
    responses: dict[str, Any] = {str(route.status): _success(route, refs)}
    statuses = {400}
    if route.scope is not None:
        statuses |= {401, 403, 429, 503}
    if route.path_parameters:
        statuses.add(404)
    if route.body is not None or route.upload is not None or route.definition_body:
        statuses |= {413, 422}
    if route.definition_body:
        statuses.add(415)
    if route.method == "POST" and route.scope is not None and route.idempotent:
        statuses |= {409, 422}
    for status in sorted(statuses):
        responses[str(status)] = _error(status, _ERROR_TEXTS[status], error_ref)
    if route.conflict:
        also = " Or the Idempotency-Key is in use by a request still running." if "409" in responses else ""
        responses["409"] = _error(409, f"Conflict: {route.conflict}.{also}", error_ref)
    for status, text in route.extra_errors.items():
        responses[str(status)] = _error(status, text, error_ref)
    operation["responses"] = dict(sorted(responses.items()))
    return operation


def openapi_document(routes: Sequence[ApiRoute], *, attributes: Sequence[str]) -> dict[str, Any]:
    """The document for these routes; `attributes` (the allowlist) are the extra answer filters."""
    refs, definitions = models_json_schema(_models(routes), ref_template=REF_TEMPLATE)
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.full_path, {})[route.method.lower()] = _operation(route, refs, attributes)
    scopes = "\n".join(f"- `{name}`: {text}" for name, text in SCOPES.items())
    return {
        "openapi": "3.1.0",
        "info": {"title": "outreach API", "version": API_VERSION, "description": f"{INTRO}\n\nScopes:\n{scopes}"},
        "tags": TAGS,
        "paths": paths,
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token (otr_...), from `outreach token create`.",
                }
            },
        },
        "security": [{"bearerAuth": []}],
    }


def _document(call: Call) -> dict[str, Any]:
    routes = call.request.config_dict[ROUTE_TABLE]
    return openapi_document(routes, attributes=call.services.settings.export_attributes)


async def serve_document(call: Call) -> web.StreamResponse:
    return web.json_response(_document(call), dumps=lambda data: json.dumps(data, ensure_ascii=False))


async def serve_reference(call: Call) -> web.StreamResponse:
    return web.Response(text=reference_page(_document(call)), content_type="text/html")


# --- the reference page ----------------------------------------------------------------------

_STYLE = """body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
code,pre{font-family:ui-monospace,monospace;font-size:13px}pre{background:#f5f5f5;padding:.5rem;overflow:auto}
.op{border-top:1px solid #ddd;padding:.5rem 0}.m{display:inline-block;width:4.5rem;font-weight:bold}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}"""


def _type_of(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        return f'<a href="#schema-{html.escape(name)}">{html.escape(name)}</a>'
    if "anyOf" in schema:
        return " | ".join(_type_of(option) for option in schema["anyOf"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {_type_of(schema.get('items', {}))}"
    if kind == "object" and "additionalProperties" in schema and isinstance(schema["additionalProperties"], dict):
        return f"object of {_type_of(schema['additionalProperties'])}"
    if "enum" in schema:
        return " | ".join(html.escape(json.dumps(value)) for value in schema["enum"])
    return html.escape(str(kind))


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{html.escape(part)}</p>" for part in text.split("\n\n") if part.strip())


def reference_page(document: dict[str, Any]) -> str:
    info = document["info"]
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        f"<title>{html.escape(info['title'])} {html.escape(info['version'])}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(info['title'])} <small>{html.escape(info['version'])}</small></h1>",
        _paragraphs(info.get("description", "")),
        '<p>The machine-readable document: <a href="openapi.json">openapi.json</a> (OpenAPI 3.1).</p>',
        "<h2>Endpoints</h2>",
    ]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            parts.append(f'<div class=op id="{html.escape(operation["operationId"])}">')
            parts.append(f"<h3><span class=m>{method.upper()}</span><code>{html.escape(path)}</code></h3>")
            parts.append(f"<p><b>{html.escape(operation['summary'])}</b></p>")
            parts.append(_paragraphs(operation.get("description", "")))
            parameters = operation.get("parameters", [])
            if parameters:
                parts.append("<table><tr><th>parameter</th><th>in</th><th>type</th><th>about</th></tr>")
                for parameter in parameters:
                    required = " (required)" if parameter.get("required") else ""
                    parts.append(
                        f"<tr><td><code>{html.escape(parameter['name'])}</code>{required}</td>"
                        f"<td>{html.escape(parameter['in'])}</td><td>{_type_of(parameter['schema'])}</td>"
                        f"<td>{html.escape(parameter.get('description', ''))}</td></tr>"
                    )
                parts.append("</table>")
            body = operation.get("requestBody")
            if body:
                (media, media_type), *_ = body["content"].items()  # JSON, or a file the handler streams
                parts.append(f"<p>Body: {html.escape(media)} {_type_of(media_type['schema'])}</p>")
            parts.append("<table><tr><th>status</th><th>answer</th></tr>")
            for status, response in operation["responses"].items():
                content = response.get("content", {})
                kinds = ", ".join(
                    f"{html.escape(media)} {_type_of(media_type.get('schema', {}))}"
                    for media, media_type in content.items()
                )
                parts.append(
                    f"<tr><td>{html.escape(status)}</td><td>{html.escape(response['description'])}<br>{kinds}</td></tr>"
                )
            parts.append("</table></div>")
    parts.append("<h2>Schemas</h2>")
    for name, schema in document["components"]["schemas"].items():
        parts.append(f'<h3 id="schema-{html.escape(name)}">{html.escape(name)}</h3>')
        if "description" in schema:
            parts.append(_paragraphs(schema["description"]))
        properties = schema.get("properties", {})
        if properties:
            needed = set(schema.get("required", []))
            parts.append("<table><tr><th>field</th><th>type</th><th>about</th></tr>")
            for field_name, prop in properties.items():
                mark = "" if field_name in needed else " (optional)"
                parts.append(
                    f"<tr><td><code>{html.escape(field_name)}</code>{mark}</td><td>{_type_of(prop)}</td>"
                    f"<td>{html.escape(prop.get('description', ''))}</td></tr>"
                )
            parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


REFERENCE_ROUTES = [
    ApiRoute(
        "GET",
        "/openapi.json",
        serve_document,
        "getOpenApiDocument",
        "This OpenAPI 3.1 document",
        "reference",
        scope=None,
        description="Made at run time from the route table and the models the handlers use.",
    ),
    ApiRoute(
        "GET",
        "/docs",
        serve_reference,
        "getReferencePage",
        "Readable reference page (HTML)",
        "reference",
        scope=None,
        media_type="text/html",
        description="This document, rendered as a plain page.",
    ),
]
