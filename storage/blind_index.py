"""The blind index of an address: HMAC-SHA256 of the normalised "channel:address" with the
blind-index key. Equal addresses give equal indexes, so every lookup the service makes (inbound by
sender, import dedupe, the unique (channel, address_index), a resident's find and erase) is an
equality on this column; it reveals which rows share an address, nothing else, and without the key
an index cannot be computed from a guessed phone number (docs/PRIVACY.md)."""

from __future__ import annotations

import hashlib
import hmac

INDEX_LENGTH = 64  # hex of 32 bytes


def normalised(channel: str, address: str) -> str:
    # Addresses are stored normalised already (E.164, chat ids); mail is compared in lower case, as the
    # inbound path reads a sender.
    return address.lower() if channel == "email" else address


def address_index(key: bytes, channel: str, address: str) -> str:
    # hmac.digest: the one-shot C path (an import computes half a million).
    return hmac.digest(key, f"{channel}:{normalised(channel, address)}".encode(), hashlib.sha256).hex()
