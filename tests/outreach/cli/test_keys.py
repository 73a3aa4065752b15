"""`outreach keys`: a fresh key is 32 random bytes in base64; status names key ids, never keys."""

from __future__ import annotations

import base64

import pytest
from typer.testing import CliRunner

from outreach.cli.main import app
from tests.providers import BLIND_INDEX_KEY, ENCRYPTION_KEY_1, ENCRYPTION_KEY_2


def test_keys_new_prints_a_fresh_key_of_32_bytes() -> None:
    made = [CliRunner().invoke(app, ["keys", "new"]).output.strip() for _ in range(2)]
    assert [len(base64.b64decode(key, validate=True)) for key in made] == [32, 32]
    assert made[0] != made[1]


def test_keys_status_names_the_ring_current_first(monkeypatch: pytest.MonkeyPatch, cli: CliRunner) -> None:
    monkeypatch.setenv("OUTREACH_ENCRYPTION_KEYS", f"k2:{ENCRYPTION_KEY_2},k1:{ENCRYPTION_KEY_1}")
    monkeypatch.setenv("OUTREACH_BLIND_INDEX_KEY", BLIND_INDEX_KEY)
    done = cli.invoke(app, ["keys", "status"])
    assert done.exit_code == 0, done.output
    assert "encryption keys: k2, k1 (current: k2)" in done.output
    assert ENCRYPTION_KEY_1 not in done.output and ENCRYPTION_KEY_2 not in done.output
