"""The keyring of addresses at rest, from the settings that hold it: OUTREACH_ENCRYPTION_KEYS or
OUTREACH_ENCRYPTION_KEY_FILE, and OUTREACH_BLIND_INDEX_KEY (or the file's blind_index_key). With none of
them in development, the public development keys; elsewhere a missing key is an error naming its setting."""

from __future__ import annotations

import json
from pathlib import Path

from storage.keyring import Keyring, KeyringError, decode_key, development_keyring, parse_encryption_keys


def configured_keyring(
    *, env: str, encryption_keys: str | None, encryption_key_file: Path | None, blind_index_key: str | None
) -> Keyring:
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
