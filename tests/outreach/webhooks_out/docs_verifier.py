"""A webhook verifier written from docs/API.md ("Receiving webhooks") and the Standard Webhooks text
alone: it imports nothing from the project, as a subscriber's code would not."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping

TOLERANCE_SECONDS = 5 * 60


class Unverified(Exception):
    pass


def verify(secret: str, headers: Mapping[str, str], body: bytes, *, now: float | None = None) -> None:
    """Raise Unverified unless one of the v1 signatures is the HMAC-SHA256 of id.timestamp.body under
    the key (base64 after whsec_) and the timestamp is within five minutes of now."""
    lowered = {name.lower(): value for name, value in headers.items()}
    try:
        message_id = lowered["webhook-id"]
        timestamp = lowered["webhook-timestamp"]
        signatures = lowered["webhook-signature"]
    except KeyError as missing:
        raise Unverified(f"missing header {missing}") from None
    if abs((time.time() if now is None else now) - int(timestamp)) > TOLERANCE_SECONDS:
        raise Unverified("timestamp outside the replay window")
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest())
    for versioned in signatures.split(" "):
        version, _, given = versioned.partition(",")
        if version == "v1" and hmac.compare_digest(given.encode(), expected):
            return
    raise Unverified("no signature matches")
