"""An OpenID Connect provider on 127.0.0.1 (a free port), speaking the protocol a city's SSO speaks:
discovery, /authorize (sends the browser back with a code), /token (the code, once, for an ID token
signed RS256 with a key it makes, after checking the client's secret and the PKCE verifier) and /jwks.

Whoever logs in next is `provider.login`; its fields also make the provider answer wrongly on purpose
(another state or nonce, another audience, an expired token, a signature by a key it does not publish).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey


@cache
def _key(kid: str) -> RSAKey:
    """An RSA signing key, made once per test run (a 2048-bit key takes a while to make)."""
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})


@dataclass
class Login:
    """The official who logs in at the provider next, and what the provider gets wrong on purpose."""

    email: str | None
    email_verified: bool = True
    state: str | None = None  # sent back instead of the state the client gave
    nonce: str | None = None  # put in the ID token instead of the client's nonce
    audience: str | None = None  # instead of the client's id
    lifetime: timedelta = timedelta(minutes=5)  # negative: expired when issued
    signed_by_stranger: bool = False  # signed by a key the provider does not publish


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    nonce: str
    code_challenge: str
    login: Login


@dataclass
class OidcProvider:
    client_id: str
    client_secret: str
    clock: Callable[[], datetime]
    login: Login = field(default_factory=lambda: Login(email=None))
    token_requests: list[dict[str, str]] = field(default_factory=list)
    _grants: dict[str, _Grant] = field(default_factory=dict)
    _runner: web.AppRunner | None = None
    port: int = 0

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> OidcProvider:
        app = web.Application()
        app.router.add_get("/.well-known/openid-configuration", self._discovery)
        app.router.add_get("/authorize", self._authorize)
        app.router.add_post("/token", self._token)
        app.router.add_get("/jwks", self._jwks)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _discovery(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            }
        )

    async def _authorize(self, request: web.Request) -> web.StreamResponse:
        asked = request.query
        if (
            asked.get("response_type") != "code"
            or asked.get("client_id") != self.client_id
            or "openid" not in asked.get("scope", "").split()
            or asked.get("code_challenge_method") != "S256"
            or not asked.get("code_challenge")
            or not asked.get("nonce")
        ):
            return web.Response(status=400, text="invalid authorization request")
        code = secrets.token_urlsafe(16)
        self._grants[code] = _Grant(
            asked["client_id"], asked["redirect_uri"], asked["nonce"], asked["code_challenge"], self.login
        )
        back = {"code": code, "state": self.login.state or asked.get("state", "")}
        raise web.HTTPFound(f"{asked['redirect_uri']}?{urlencode(back)}")

    async def _token(self, request: web.Request) -> web.Response:
        form = {name: str(value) for name, value in (await request.post()).items()}
        self.token_requests.append(form)
        if request.headers.get("Authorization") != self._basic:
            return web.json_response({"error": "invalid_client"}, status=401)
        grant = self._grants.pop(form.get("code", ""), None)  # a code works once
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if (
            grant is None
            or form.get("grant_type") != "authorization_code"
            or form.get("redirect_uri") != grant.redirect_uri
            or challenge != grant.code_challenge
        ):
            return web.json_response({"error": "invalid_grant"}, status=400)
        return web.json_response(
            {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "id_token": self._id_token(grant)}
        )

    @property
    def _basic(self) -> str:
        """The client's credentials as RFC 6749 2.3.1 says to send them."""
        pair = f"{quote(self.client_id, safe='')}:{quote(self.client_secret, safe='')}"
        return "Basic " + base64.b64encode(pair.encode()).decode()

    def _id_token(self, grant: _Grant) -> str:
        login, now = grant.login, self.clock()
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": hashlib.sha256((login.email or "nobody").encode()).hexdigest()[:16],
            "aud": login.audience or grant.client_id,
            "iat": int(now.timestamp()),
            "exp": int((now + login.lifetime).timestamp()),
            "nonce": login.nonce or grant.nonce,
            "email_verified": login.email_verified,
        }
        if login.email is not None:
            claims["email"] = login.email
        key = _key("stranger") if login.signed_by_stranger else _key("provider")
        return jwt.encode({"alg": "RS256", "kid": "provider"}, claims, key)

    async def _jwks(self, request: web.Request) -> web.Response:
        return web.json_response(KeySet([_key("provider")]).as_dict(private=False))
