"""AES-256-GCM sealing of values at rest (residents' addresses, their message texts).

A sealed value is "KEYID:" + base64url(nonce ‖ ciphertext ‖ tag), so any worker opens it with the
key it names while `outreach keys rotate` moves rows to the current key. The associated data binds
the value to where it belongs ("contact:sms", "inbound:text"...): a ciphertext copied into another
kind of row does not open. One AESGCM object per key, made once (no per-row key setup)."""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from storage.keyring import Keyring, KeyringError

NONCE_BYTES = 12


class SealedValueUnreadable(KeyringError):
    """A sealed value that no key of the ring opens: its key is missing, or it is not a sealed value."""


class Sealer:
    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keyring.encryption_keys}
        self._current = keyring.current_id

    def seal(self, value: str, *, binding: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self._current].encrypt(nonce, value.encode(), binding.encode())
        return f"{self._current}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def open(self, sealed: str, *, binding: str) -> str:
        key_id, _, body = sealed.partition(":")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise SealedValueUnreadable(
                f"a value is sealed under key {key_id!r}, which OUTREACH_ENCRYPTION_KEYS does not hold"
                f" (it holds {', '.join(self.keyring.key_ids)}): put the old key back after the current one"
            )
        try:
            raw = base64.urlsafe_b64decode(body)
            return cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], binding.encode()).decode()
        except (InvalidTag, ValueError):
            raise SealedValueUnreadable(
                f"a value sealed under key {key_id!r} does not open: the key given under that id is not"
                f" the one it was sealed with, or the value was moved from another kind of row ({binding})"
            ) from None

    def key_id_of(self, sealed: str) -> str:
        return sealed.partition(":")[0]

    def is_current(self, sealed: str) -> bool:
        return sealed.startswith(f"{self._current}:")


def sealed_length(plain_length: int) -> int:
    """The longest sealed text of a value of `plain_length` UTF-8 bytes (for column sizes)."""
    raw = NONCE_BYTES + plain_length + 16
    return 17 + 4 * ((raw + 2) // 3)
