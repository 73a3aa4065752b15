"""The keys of residents' addresses at rest: AES-256-GCM keys with ids (the first seals, every one
opens, so workers read rows under an old key while `outreach keys rotate` re-encrypts them) and the
blind-index key (HMAC-SHA256) that finds an address without decrypting any row.

The keys come from configuration (configured_keyring, from the settings), never from the database: a copy of
the database alone reveals no address. docs/PRIVACY.md, "Encryption at rest"."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

KEY_BYTES = 32  # AES-256; the blind-index key is as long
KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,16}")

# Development only: a key anyone can derive from this text (it is in the source), so that a laptop
# needs no setup. It protects nothing; production refuses to start without real keys.
DEVELOPMENT_KEY_ID = "dev"
_DEVELOPMENT_SEED = b"outreach development key: public, protects nothing, never for production"


class KeyringError(ValueError):
    """A key setting that cannot be used: the message names the setting, never the key."""


@dataclass(frozen=True)
class Keyring:
    encryption_keys: tuple[tuple[str, bytes], ...]  # (id, key), the current one first
    blind_index_key: bytes = field(repr=False)
    development: bool = False  # the public development keys: say so loudly at start

    def __post_init__(self) -> None:
        if not self.encryption_keys:
            raise KeyringError("no encryption key")
        ids = [key_id for key_id, _ in self.encryption_keys]
        if len(set(ids)) != len(ids):
            raise KeyringError(f"an encryption key id is given twice ({', '.join(ids)})")
        for key_id, key in self.encryption_keys:
            if not KEY_ID.fullmatch(key_id):
                raise KeyringError(f"key id {key_id!r} is not 1-16 of A-Z a-z 0-9 _ -")
            if len(key) != KEY_BYTES:
                raise KeyringError(f"key {key_id} is {len(key)} bytes, not {KEY_BYTES} (AES-256)")
        if len(self.blind_index_key) != KEY_BYTES:
            raise KeyringError(f"the blind-index key is {len(self.blind_index_key)} bytes, not {KEY_BYTES}")

    def __repr__(self) -> str:
        return f"Keyring(ids={self.key_ids}, development={self.development})"

    @property
    def current_id(self) -> str:
        return self.encryption_keys[0][0]

    @property
    def key_ids(self) -> list[str]:
        return [key_id for key_id, _ in self.encryption_keys]

    def key(self, key_id: str) -> bytes | None:
        return dict(self.encryption_keys).get(key_id)


def parse_encryption_keys(text: str, *, setting: str) -> tuple[tuple[str, bytes], ...]:
    """ "k2:BASE64,k1:BASE64" (current first) as (id, key) pairs."""
    keys = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        key_id, colon, encoded = item.partition(":")
        if not colon:
            raise KeyringError(f"{setting}: an item is not ID:BASE64KEY (e.g. k1:...)")
        keys.append((key_id.strip(), decode_key(encoded, setting=f"{setting} (key {key_id.strip()})")))
    return tuple(keys)


def decode_key(encoded: str, *, setting: str) -> bytes:
    try:
        key = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise KeyringError(f"{setting} is not base64 (make one with `outreach keys new`)") from None
    if len(key) != KEY_BYTES:
        raise KeyringError(f"{setting} is {len(key)} bytes, not {KEY_BYTES} (make one with `outreach keys new`)")
    return key


def development_keyring() -> Keyring:
    """The public development keys (see _DEVELOPMENT_SEED): a fresh laptop works, nothing is protected."""
    encryption = hashlib.sha256(_DEVELOPMENT_SEED + b" encryption").digest()
    index = hashlib.sha256(_DEVELOPMENT_SEED + b" blind index").digest()
    return Keyring(((DEVELOPMENT_KEY_ID, encryption),), index, development=True)


def configured_keyring(
    *, env: str, encryption_keys: str | None, encryption_key_file: Path | None, blind_index_key: str | None
) -> Keyring:
    """The ring from OUTREACH_ENCRYPTION_KEYS or OUTREACH_ENCRYPTION_KEY_FILE, and OUTREACH_BLIND_INDEX_KEY
    (or the file's blind_index_key); with none of them in development, the public development keys.
    Elsewhere a missing key is a KeyringError naming its setting."""
    if encryption_keys is None and encryption_key_file is None and blind_index_key is None and env == "development":
        return development_keyring()
    if encryption_keys is not None and encryption_key_file is not None:
        raise KeyringError("OUTREACH_ENCRYPTION_KEYS and OUTREACH_ENCRYPTION_KEY_FILE are both set: give one")
    keys_text, index_text = encryption_keys or "", blind_index_key or ""
    if encryption_key_file is not None:
        keys_text, index_text = _read_key_file(encryption_key_file, index_text)
    if not keys_text:
        raise KeyringError(
            f"{env}: OUTREACH_ENCRYPTION_KEYS (or OUTREACH_ENCRYPTION_KEY_FILE) is missing"
            " (the keys of residents' addresses at rest)"
        )
    if not index_text:
        raise KeyringError(
            f"{env}: OUTREACH_BLIND_INDEX_KEY (or blind_index_key in OUTREACH_ENCRYPTION_KEY_FILE)"
            " is missing (the key addresses are found by)"
        )
    keys = parse_encryption_keys(keys_text, setting="OUTREACH_ENCRYPTION_KEYS")
    return Keyring(keys, decode_key(index_text, setting="OUTREACH_BLIND_INDEX_KEY"))


def _read_key_file(path: Path, index_text: str) -> tuple[str, str]:
    """The file's keys, and its blind-index key unless OUTREACH_BLIND_INDEX_KEY gave one."""
    try:
        held = json.loads(path.read_text())
        keys_text = ",".join(held["encryption_keys"])
        return keys_text, index_text or str(held.get("blind_index_key", ""))
    except (OSError, ValueError, KeyError, TypeError) as error:
        reason = type(error).__name__ if not isinstance(error, OSError) else error.strerror
        raise KeyringError(
            "OUTREACH_ENCRYPTION_KEY_FILE cannot be read as"
            ' {"encryption_keys": ["ID:BASE64KEY", ...], "blind_index_key": "BASE64KEY"}'
            f" ({reason})"
        ) from None
