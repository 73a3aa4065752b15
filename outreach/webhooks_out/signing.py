"""Standard Webhooks signatures (https://www.standardwebhooks.com): pure, no I/O.

The secret is `whsec_` + base64 of a random key; a message is signed as base64(HMAC-SHA256(key,
"{webhook-id}.{webhook-timestamp}.{body}")) and sent as `webhook-signature: v1,<signature>`, one per
secret, space-separated, so that a receiver still holding the previous secret verifies during a
rotation's overlap.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence

SECRET_PREFIX = "whsec_"
KEY_BYTES = 32


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """`v1,` + the base64 HMAC-SHA256 of `id.timestamp.body` under the secret's key."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def signed_headers(secrets_in_use: Sequence[str], message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three headers of a delivery, signed with every secret in use (the current one first)."""
    if not secrets_in_use:
        raise ValueError("a delivery needs at least one secret")
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signature(secret, message_id, timestamp, body) for secret in secrets_in_use),
        "content-type": "application/json",
    }
