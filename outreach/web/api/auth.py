"""Tokens, scopes and the per-token rate limit of the REST API.

A token is `otr_` followed by 43 random URL-safe characters; the service keeps only its sha256 and
finds a token by that hash. A token has scopes, may be bound to one campaign, and may expire
(`--expires 90d`, the API's `expires_in`): an expired token is refused like a revoked one.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from outreach import audit
from outreach.audit import Actor
from outreach.web.api.scopes import SCOPES as SCOPES  # re-exported: where importers have always found it
from storage.db import SessionFactory
from storage.tables import ApiToken
from storage.tokens import TokenRepository

TOKEN_PREFIX = "otr_"

_IMPLIED: dict[str, set[str]] = {
    "responses:read": {"campaigns:read"},
    "responses:rows": {"responses:read", "campaigns:read"},
    "campaigns:write": {"campaigns:read"},
    "admin": set(SCOPES),
}
# last_used_at is written at most this often per token: a read must not become a write each time.
TOUCH_EVERY = timedelta(minutes=10)
# A token's lifetime as an official writes it: hours, days or weeks ("12h", "90d", "2w").
_LIFETIME = re.compile(r"(\d{1,6})([hdw])")
_LIFETIME_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
LONGEST_LIFETIME = timedelta(days=3660)  # ten years: beyond that, say no expiry at all


def parse_lifetime(text: str) -> timedelta:
    """ "90d" -> 90 days; a whole number of hours (h), days (d) or weeks (w), at most ten years."""
    found = _LIFETIME.fullmatch(text.strip().lower())
    lifetime = int(found[1]) * _LIFETIME_UNITS[found[2]] if found else timedelta(0)
    if not timedelta(0) < lifetime <= LONGEST_LIFETIME:
        raise ValueError(
            "an expiry is a whole number of hours, days or weeks (e.g. 12h, 90d, 2w),"
            " more than zero and at most ten years"
        )
    return lifetime


def is_live(token: ApiToken, now: datetime) -> bool:
    """Neither revoked nor expired: the token may be used now."""
    return token.revoked_at is None and (token.expires_at is None or now < token.expires_at)


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def effective_scopes(scopes: Iterable[str]) -> set[str]:
    granted: set[str] = set()
    for scope in scopes:
        granted |= {scope, *_IMPLIED.get(scope, set())}
    return granted


def unknown_scopes(scopes: Iterable[str]) -> list[str]:
    return sorted(set(scopes) - set(SCOPES))


@dataclass(frozen=True)
class IssuedToken:
    token: str  # shown once, never stored
    record: ApiToken


async def issue_token(
    sessions: SessionFactory,
    *,
    scopes: Sequence[str],
    label: str,
    now: datetime,
    campaign_id: int | None = None,
    lifetime: timedelta | None = None,
    actor: Actor | None = None,
) -> IssuedToken:
    """Make a token with these scopes; `lifetime` None: it lives until revoked. Recorded in the audit
    log as made by `actor` (when given), in the same commit."""
    unknown = unknown_scopes(scopes)
    if unknown or not scopes:
        raise ValueError(f"unknown scope {', '.join(unknown)}; scopes are {', '.join(SCOPES)}")
    token = new_token()
    async with sessions() as session, session.begin():
        record = await TokenRepository(session).add(
            ApiToken(
                token_hash=token_hash(token),
                prefix=token[: len(TOKEN_PREFIX) + 6],
                label=label,
                scopes=sorted(set(scopes)),
                campaign_id=campaign_id,
                created_at=now,
                expires_at=None if lifetime is None else now + lifetime,
            )
        )
        if actor is not None:
            expires = None if record.expires_at is None else record.expires_at.isoformat()
            details: dict[str, audit.DetailValue] = {
                "scopes": record.scopes,
                "campaign_id": campaign_id,
                "expires_at": expires,
            }
            await audit.record(session, actor, audit.TOKEN_CREATE, "token", record.id, details, at=now)
    return IssuedToken(token=token, record=record)


class RateLimiter:
    """A token bucket per API token, in this process: `per_minute` requests a minute, in bursts of
    up to `per_minute`. (Limits shared between processes come with Redis.)"""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[int, tuple[float, float]] = {}  # token id -> (tokens left, at)

    def take(self, key: int, per_minute: int) -> int | None:
        """Spend one request; None when allowed, else the whole seconds to wait (Retry-After)."""
        now = self._clock()
        capacity = float(max(per_minute, 1))
        left, at = self._buckets.get(key, (capacity, now))
        left = min(capacity, left + (now - at) * capacity / 60)
        if left >= 1:
            self._buckets[key] = (left - 1, now)
            return None
        self._buckets[key] = (left, now)
        return max(1, math.ceil((1 - left) * 60 / capacity))
