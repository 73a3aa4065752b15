"""The reply token of an email (pure): how it is made from the outbox key, and what it looks like.

`reply_token(token_secret, outbound.key)`: 160 bits of HMAC-SHA256 over the outbox idempotency key, as
32 characters of lowercase base32. The question mail carries it (`email_composition`), a reply brings it
back (`email_parsing`), and the answer and unsubscribe links name it (routes check `is_token` first).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

# The reply token: lowercase base32 (RFC 4648 alphabet, no padding) of 160 bits, 32 characters. Base32
# survives anything that folds the case of an address's local part, which some mail systems do.
TOKEN_PATTERN = r"[a-z2-7]{32}"
TOKEN_BYTES = 20  # 160 bits; base32 without padding: 32 characters
_TOKEN = re.compile(TOKEN_PATTERN)


def reply_token(secret: bytes, outbound_key: str) -> str:
    """The reply token of an outbox message: lowercase base32 of HMAC-SHA256(secret, key)[:20].

    Deterministic, so a resend of the same outbox row carries the same token and Message-ID, and the
    service never stores a secret in a mail; 160 bits, so nobody guesses another resident's token.
    """
    digest = hmac.new(secret, outbound_key.encode("utf-8"), hashlib.sha256).digest()[:TOKEN_BYTES]
    return base64.b32encode(digest).decode("ascii").lower().rstrip("=")


def is_token(value: str) -> bool:
    """A string shaped like a reply token (routes check this before any lookup)."""
    return bool(_TOKEN.fullmatch(value))
