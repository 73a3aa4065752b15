"""The blind index of an address: HMAC-SHA256 of "channel:address" with the blind-index key.

Addresses reach the store in their one canonical form (outreach.addresses.canonical_address: E.164,
an email whole in lower case, a chat id), so equal addresses give equal indexes and every lookup the
service makes (inbound by sender, import dedupe, the unique (channel, address_index), a resident's
find and erase) is an equality on this column. It reveals which rows share an address, nothing else;
without the key an index cannot be computed from a guessed phone number (docs/PRIVACY.md)."""

from __future__ import annotations

import hashlib
import hmac

INDEX_LENGTH = 64  # hex of 32 bytes


def address_index(key: bytes, channel: str, address: str) -> str:
    # hmac.digest: the one-shot C path (an import computes half a million).
    return hmac.digest(key, f"{channel}:{address}".encode(), hashlib.sha256).hex()
