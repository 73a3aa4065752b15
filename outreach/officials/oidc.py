"""Logging officials in through the city's OpenID Connect provider (issue 21): the authorization code
flow with PKCE (S256), state and nonce, against the provider's discovery document.

The ID token is the proof: its RS256 (or other asymmetric) signature is checked against the keys the
provider publishes (jwks_uri, fetched for each login, so a rotated key is picked up), and its issuer,
audience, expiry and nonce against what this service asked for (authlib's CodeIDToken rules). Its
e-mail, when the provider says it is verified, names the official; outreach.officials.sso decides
whether that official may come in.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import aiohttp
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from outreach.settings import Settings

# The signatures accepted: asymmetric only, so that the client secret can never sign a token.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "ES256")
LEEWAY_SECONDS = 60  # the provider's clock and ours may differ by this much
TIMEOUT = aiohttp.ClientTimeout(total=10)


class SsoFailed(Exception):
    """The provider's answer is not a login we accept; `reason` names why, for the page and the log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class OidcClient:
    """This service as a client of the provider."""

    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    name: str  # what the login button calls the provider


def oidc_client(settings: Settings) -> OidcClient | None:
    """The client the settings describe; None when SSO is not configured."""
    if not (settings.admin_oidc_issuer and settings.admin_oidc_client_id and settings.admin_oidc_client_secret):
        return None
    return OidcClient(
        issuer=settings.admin_oidc_issuer,  # exactly as the provider writes it in its tokens
        client_id=settings.admin_oidc_client_id,
        client_secret=settings.admin_oidc_client_secret.get_secret_value(),
        redirect_uri=settings.public_url.rstrip("/") + settings.admin_oidc_redirect_path,
        name=settings.admin_oidc_name,
    )


@dataclass(frozen=True)
class Pending:
    """What the browser keeps (in a cookie) between leaving for the provider and coming back."""

    state: str
    nonce: str
    code_verifier: str

    @classmethod
    def new(cls) -> Pending:
        return cls(secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(48))

    def cookie_value(self) -> str:
        return f"{self.state}.{self.nonce}.{self.code_verifier}"  # url-safe tokens hold no "."

    @classmethod
    def from_cookie(cls, value: str | None) -> Pending | None:
        parts = (value or "").split(".")
        return cls(*parts) if len(parts) == 3 and all(parts) else None


@dataclass(frozen=True)
class VerifiedIdentity:
    subject: str
    email: str | None
    email_verified: bool


async def _json(http: aiohttp.ClientSession, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
    try:
        async with http.request(method, url, **kwargs) as response:
            if response.status != 200:
                raise SsoFailed(f"the provider answered {response.status} at {url}")
            body = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as failure:
        raise SsoFailed(f"the provider could not be reached at {url} ({type(failure).__name__})") from None
    if not isinstance(body, dict):
        raise SsoFailed(f"the provider's answer at {url} is not a JSON object")
    return body


async def discover(http: aiohttp.ClientSession, client: OidcClient) -> dict[str, Any]:
    """The provider's metadata; its issuer must be the one configured (OpenID Connect Discovery 4.3)."""
    metadata = await _json(http, "GET", f"{client.issuer.rstrip('/')}/.well-known/openid-configuration")
    if metadata.get("issuer") != client.issuer:
        raise SsoFailed("the discovery document names another issuer")
    for needed in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(metadata.get(needed), str):
            raise SsoFailed(f"the discovery document has no {needed}")
    return metadata


async def authorization_url(http: aiohttp.ClientSession, client: OidcClient, pending: Pending) -> str:
    """Where to send the browser to log in at the provider."""
    metadata = await discover(http, client)
    return str(
        add_params_to_uri(
            metadata["authorization_endpoint"],
            [
                ("response_type", "code"),
                ("client_id", client.client_id),
                ("redirect_uri", client.redirect_uri),
                ("scope", "openid email"),
                ("state", pending.state),
                ("nonce", pending.nonce),
                ("code_challenge", create_s256_code_challenge(pending.code_verifier)),
                ("code_challenge_method", "S256"),
            ],
        )
    )


def client_secret_basic(client: OidcClient) -> str:
    """The client's credentials as RFC 6749 2.3.1 sends them: each form-encoded, then HTTP Basic."""
    pair = f"{quote(client.client_id, safe='')}:{quote(client.client_secret, safe='')}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


async def complete_login(
    http: aiohttp.ClientSession, client: OidcClient, pending: Pending, *, state: str, code: str, now: datetime
) -> VerifiedIdentity:
    """Trade the code the browser brought back for an ID token, and check it; SsoFailed otherwise."""
    if not secrets.compare_digest(state.encode(), pending.state.encode()):
        raise SsoFailed("the state does not match this browser's login")
    metadata = await discover(http, client)
    tokens = await _json(
        http,
        "POST",
        metadata["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": client.redirect_uri,
            "code_verifier": pending.code_verifier,
        },
        headers={"Authorization": client_secret_basic(client)},
    )
    id_token = tokens.get("id_token")
    if not isinstance(id_token, str):
        raise SsoFailed("the provider gave no ID token")
    keys = await _json(http, "GET", metadata["jwks_uri"])
    claims = verify_id_token(
        client, id_token, keys, nonce=pending.nonce, now=now, access_token=tokens.get("access_token")
    )
    email = claims.get("email")
    return VerifiedIdentity(
        subject=str(claims["sub"]),
        email=email if isinstance(email, str) else None,
        email_verified=claims.get("email_verified") is True,
    )


def verify_id_token(
    client: OidcClient, id_token: str, keys: dict[str, Any], *, nonce: str, now: datetime, access_token: object
) -> dict[str, Any]:
    """The ID token's claims once its signature, issuer, audience, expiry and nonce hold."""
    try:
        key_set = KeySet.import_key_set(keys)  # type: ignore[arg-type]  # checked by joserfc itself
        token = jwt.decode(id_token, key_set, algorithms=ALGORITHMS)
    except (JoseError, ValueError, TypeError, KeyError) as failure:
        raise SsoFailed(f"the ID token's signature does not hold ({type(failure).__name__})") from None
    params: dict[str, Any] = {"nonce": nonce, "client_id": client.client_id}
    if isinstance(access_token, str):
        params["access_token"] = access_token  # checked against at_hash when the token has one
    options = {
        "iss": {"essential": True, "value": client.issuer},
        "aud": {"essential": True, "value": client.client_id},
        "exp": {"essential": True},
        "nonce": {"essential": True, "value": nonce},
    }
    claims = CodeIDToken(token.claims, token.header, options, params)
    try:
        claims.validate(now=int(now.timestamp()), leeway=LEEWAY_SECONDS)
    except JoseError as failure:
        raise SsoFailed(f"the ID token is refused: {failure}") from None
    return dict(claims)
