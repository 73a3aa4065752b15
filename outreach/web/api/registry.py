"""The route registry: each endpoint is declared once (method, path, scope, models, summary), and
both the router and the OpenAPI document are made from that declaration, so they cannot drift.

A declared route gets, before its handler runs: the bearer token checked (401), the per-token rate
limit (429), the scope (403), `{campaign_id}` resolved and checked against a campaign-bound token
(403, 404), the query and the JSON body validated by their models (400, 422).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from outreach.audit import Actor
from outreach.bootstrap import Services
from outreach.web.api.auth import TOUCH_EVERY, RateLimiter, effective_scopes, is_live, token_hash
from outreach.web.api.errors import ApiError, validation_details
from outreach.web.api.idempotency import idempotent
from outreach.web.api.models import MAX_ID
from outreach.web.json_bodies import RefusedJson, json_document
from outreach.web.keys import SERVICES
from storage.db import read_session
from storage.tables import ApiToken, CampaignRecord
from storage.tokens import TokenRepository

API_PREFIX = "/api/v1"
RATE_LIMITER = web.AppKey("api_rate_limiter", RateLimiter)
ANY_SCOPE = "*"  # any valid token, whatever its scopes
PATH_PARAMETER = re.compile(r"\{(\w+)\}")

M = TypeVar("M", bound=BaseModel)


def services_of(request: web.Request) -> Services:
    """The services of the application this API is mounted in, read at request time."""
    return request.config_dict[SERVICES]


@dataclass
class Call:
    """What a handler gets: the request, the services, and what the registry checked for it."""

    request: web.Request
    services: Services
    token: ApiToken | None
    campaign: CampaignRecord | None
    path_ids: dict[str, int]
    query: BaseModel | None
    extra_query: dict[str, str]
    body: BaseModel | None

    def query_as(self, model: type[M]) -> M:
        assert isinstance(self.query, model)
        return self.query

    def body_as(self, model: type[M]) -> M:
        assert isinstance(self.body, model)
        return self.body

    @property
    def actor(self) -> Actor:
        """The token making the request, as the audit log names it."""
        assert self.token is not None
        return Actor.token(self.token)

    @property
    def record(self) -> CampaignRecord:
        assert self.campaign is not None
        return self.campaign


ApiHandler = Callable[[Call], Awaitable[BaseModel | web.StreamResponse]]


@dataclass(frozen=True)
class ApiRoute:
    method: str
    path: str  # below API_PREFIX, e.g. "/campaigns/{campaign_id}"
    handler: ApiHandler
    operation_id: str
    summary: str
    tag: str
    scope: str | None  # None: public, no token needed
    description: str = ""
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    definition_body: bool = False  # the body is a campaign definition, YAML or JSON (outreach.web.api.definitions)
    body_example: dict[str, Any] | None = None  # shown in the document (and tried by schemathesis)
    upload: str | None = None  # the media type of a body the handler streams itself (not JSON, no size cap)
    response: type[BaseModel] | None = None
    status: int = 200
    media_type: str = "application/json"
    attribute_filters: bool = False  # allowlisted attributes are extra query filters
    unbound_only: bool = False  # not for a token bound to one campaign (the resource is not in one)
    conflict: str | None = None  # when the operation may answer 409, why
    extra_errors: dict[int, str] = field(default_factory=dict)
    # False: an Idempotency-Key is ignored, nothing of the request is kept (its body holds an address:
    # a resident's access and erasure requests, whose request and answer must not be stored).
    idempotent: bool = True

    @property
    def full_path(self) -> str:
        return API_PREFIX + self.path

    @property
    def path_parameters(self) -> list[str]:
        return PATH_PARAMETER.findall(self.path)


def add_routes(api: web.Application, routes: Sequence[ApiRoute]) -> None:
    for route in routes:
        api.router.add_route(route.method, route.path, _endpoint(route))


def rate_limit_per_minute(services: Services) -> int:
    return services.settings.api_rate_limit_per_minute


def _endpoint(route: ApiRoute) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def endpoint(request: web.Request) -> web.StreamResponse:
        services = services_of(request)
        token: ApiToken | None = None
        if route.scope is not None:
            token = await authenticate(request, services)
            wait = request.config_dict[RATE_LIMITER].take(token.id or 0, rate_limit_per_minute(services))
            if wait is not None:
                raise ApiError(
                    429,
                    "rate_limited",
                    f"too many requests with this token; retry in {wait} s",
                    headers={"Retry-After": str(wait)},
                )
            if route.scope != ANY_SCOPE and route.scope not in effective_scopes(token.scopes):
                raise ApiError(403, "insufficient_scope", f"this token lacks the scope {route.scope}")
            if route.unbound_only and token.campaign_id is not None:
                raise ApiError(403, "forbidden", "this token is bound to one campaign and cannot act outside it")
        path_ids = {name: _path_id(request, name) for name in route.path_parameters}
        campaign = None
        if "campaign_id" in path_ids:
            campaign = await _campaign(services, token, path_ids["campaign_id"])

        async def run() -> web.StreamResponse:
            query, extra = _query(route, request)
            body = await _body(route, request)
            call = Call(request, services, token, campaign, path_ids, query, extra, body)
            result = await route.handler(call)
            if isinstance(result, web.StreamResponse):
                return result
            return web.Response(text=result.model_dump_json(), status=route.status, content_type="application/json")

        if route.method == "POST" and route.idempotent and token is not None and token.id is not None:
            return await idempotent(request, services, token.id, run, read_body=route.upload is None)
        return await run()

    endpoint.__name__ = route.operation_id
    return endpoint


def _unauthorized(message: str, error: str = "invalid_token") -> ApiError:
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": f'Bearer error="{error}"'})


async def authenticate(request: web.Request, services: Services) -> ApiToken:
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if not header:
        raise ApiError(
            401,
            "unauthorized",
            "a token is needed: Authorization: Bearer <token>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if scheme.lower() != "bearer" or not given.strip():
        raise _unauthorized("give the token as Authorization: Bearer <token>", "invalid_request")
    async with read_session(services.sessions) as session:
        token = await TokenRepository(session).by_hash(token_hash(given.strip()))
    now = services.clock()
    if token is None or not is_live(token, now):
        raise _unauthorized("the token is unknown, revoked or expired")
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        assert token.id is not None
        async with services.sessions() as session, session.begin():
            await TokenRepository(session).touch(token.id, now=now)
    return token


def _path_id(request: web.Request, name: str) -> int:
    raw = request.match_info[name]
    number = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 10 else 0
    if not 1 <= number <= MAX_ID:
        what = name.removesuffix("_id")
        raise ApiError(404, "not_found", f"no {what} '{raw}': ids are whole numbers from 1")
    return number


async def _campaign(services: Services, token: ApiToken | None, campaign_id: int) -> CampaignRecord:
    if token is not None and token.campaign_id is not None and token.campaign_id != campaign_id:
        raise ApiError(403, "forbidden_campaign", "this token may only see campaign " + str(token.campaign_id))
    async with read_session(services.sessions) as session:
        record = await session.get(CampaignRecord, campaign_id)
    if record is None:
        raise ApiError(404, "not_found", f"no campaign {campaign_id}")
    return record


def _query(route: ApiRoute, request: web.Request) -> tuple[BaseModel | None, dict[str, str]]:
    given: dict[str, str] = {}
    for name in request.query:
        values = request.query.getall(name)
        if len(values) > 1:
            raise ApiError(400, "invalid_parameter", f"give the parameter '{name}' once")
        given[name] = values[0]
    if route.query is None:
        if given:
            raise ApiError(
                400, "invalid_parameter", f"unknown parameter '{sorted(given)[0]}': this endpoint takes none"
            )
        return None, {}
    declared = set(route.query.model_fields)
    extra = {name: value for name, value in given.items() if name not in declared}
    if extra and not route.attribute_filters:
        allowed = ", ".join(sorted(declared))
        raise ApiError(400, "invalid_parameter", f"unknown parameter '{sorted(extra)[0]}'; allowed: {allowed}")
    try:
        model = route.query.model_validate({name: value for name, value in given.items() if name in declared})
    except ValidationError as error:
        details = validation_details(error)
        raise ApiError(400, "invalid_parameter", "invalid query parameters", details=details) from None
    return model, extra


async def _body(route: ApiRoute, request: web.Request) -> BaseModel | None:
    if route.body is None:
        return None
    try:
        data = await json_document(request)
    except RefusedJson as refused:
        details = [{"at": refused.at, "message": refused.message}]
        raise ApiError(400, "invalid_json", refused.message, details=details) from None
    try:
        return route.body.model_validate(data)
    except ValidationError as error:
        raise ApiError(422, "invalid_body", "the body does not validate", details=validation_details(error)) from None
