"""The token endpoints of /api/v1 (the token making the request; list, create, revoke) and their
declarations, with the example the document shows for a create."""

from __future__ import annotations

from datetime import timedelta

from outreach import audit
from outreach.web.api.auth import issue_token
from outreach.web.api.errors import ApiError
from outreach.web.api.models import IssuedTokenInfo, TokenInfo, TokenList, TokenRequest
from outreach.web.api.registry import ANY_SCOPE, ApiRoute, Call
from storage.db import read_session
from storage.tables import ApiToken, CampaignRecord
from storage.tokens import TokenRepository


def token_info(token: ApiToken) -> TokenInfo:
    assert token.id is not None
    return TokenInfo(
        id=token.id,
        prefix=token.prefix,
        label=token.label,
        scopes=list(token.scopes),
        campaign_id=token.campaign_id,
        created_at=token.created_at,
        revoked_at=token.revoked_at,
        last_used_at=token.last_used_at,
        expires_at=token.expires_at,
    )


async def current_token(call: Call) -> TokenInfo:
    assert call.token is not None
    return token_info(call.token)


async def list_tokens(call: Call) -> TokenList:
    async with read_session(call.services.sessions) as session:
        tokens = await TokenRepository(session).all()
    return TokenList(data=[token_info(token) for token in tokens])


async def create_token(call: Call) -> IssuedTokenInfo:
    request = call.body_as(TokenRequest)
    services = call.services
    if request.campaign_id is not None:
        async with read_session(services.sessions) as session:
            if await session.get(CampaignRecord, request.campaign_id) is None:
                raise ApiError(404, "not_found", f"no campaign {request.campaign_id}")
    issued = await issue_token(
        services.sessions,
        scopes=list(request.scopes),
        label=request.label,
        now=services.clock(),
        campaign_id=request.campaign_id,
        lifetime=None if request.expires_in is None else timedelta(seconds=request.expires_in),
        actor=call.actor,
    )
    return IssuedTokenInfo(**token_info(issued.record).model_dump(), token=issued.token)


async def revoke_token(call: Call) -> TokenInfo:
    assert call.token is not None
    token_id = call.path_ids["token_id"]
    if token_id == call.token.id:
        raise ApiError(409, "conflict", "a token cannot revoke itself; use another admin token or the CLI")
    services = call.services
    now = services.clock()
    async with services.sessions() as session, session.begin():
        tokens = TokenRepository(session)
        if await tokens.revoke(token_id, now=now):
            await audit.record(session, call.actor, audit.TOKEN_REVOKE, "token", token_id, at=now)
        token = await tokens.get(token_id)
    if token is None:
        raise ApiError(404, "not_found", f"no token {token_id}")
    return token_info(token)


TOKEN_EXAMPLE = {"label": "open-data portal", "scopes": ["responses:read"], "expires_in": 7776000}

# Apart from the others: the route table lists it first (any token may ask), the others last (admin only).
CURRENT_TOKEN_ROUTE = ApiRoute(
    "GET",
    "/token",
    current_token,
    "currentToken",
    "The token making the request",
    "tokens",
    scope=ANY_SCOPE,
    response=TokenInfo,
    description="Its scopes and campaign: a cheap way to check a token. Any valid token.",
)

TOKEN_ROUTES: list[ApiRoute] = [
    ApiRoute(
        "GET",
        "/tokens",
        list_tokens,
        "listTokens",
        "List API tokens",
        "tokens",
        scope="admin",
        response=TokenList,
        unbound_only=True,
    ),
    ApiRoute(
        "POST",
        "/tokens",
        create_token,
        "createToken",
        "Create an API token",
        "tokens",
        scope="admin",
        body=TokenRequest,
        body_example=TOKEN_EXAMPLE,
        response=IssuedTokenInfo,
        status=201,
        unbound_only=True,
        extra_errors={404: "No campaign by that campaign_id."},
        description="The token is in this answer only; the service keeps its hash. With `expires_in` (seconds)"
        " it answers 401 from `expires_at` on, like a revoked one.",
    ),
    ApiRoute(
        "DELETE",
        "/tokens/{token_id}",
        revoke_token,
        "revokeToken",
        "Revoke an API token",
        "tokens",
        scope="admin",
        response=TokenInfo,
        unbound_only=True,
        conflict="a token cannot revoke itself",
    ),
]
