"""Settings: every one documented in .env.example, and the example itself means the defaults."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from outreach.settings import Settings

EXAMPLE = Path(__file__).parents[2] / ".env.example"


def test_every_setting_is_documented_in_env_example() -> None:
    documented = set(re.findall(r"^#?\s*(OUTREACH_[A-Z_]+)=", EXAMPLE.read_text(encoding="utf-8"), re.M))
    expected = {f"OUTREACH_{name.upper()}" for name in Settings.model_fields}
    assert documented == expected


def test_env_example_as_written_gives_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(f"OUTREACH_{name.upper()}", raising=False)
    assert Settings(_env_file=EXAMPLE) == Settings(_env_file=None)


def test_environment_overrides_and_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTREACH_DISPATCHER_CONCURRENCY", "32")
    assert Settings(_env_file=None).dispatcher_concurrency == 32
    monkeypatch.setenv("OUTREACH_DISPATCHER_CONCURRENCY", "0")
    with pytest.raises(ValueError, match="dispatcher_concurrency"):
        Settings(_env_file=None)


def test_export_attributes_are_a_comma_list_without_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTREACH_EXPORT_ATTRIBUTES", "district, household")
    assert Settings(_env_file=None).export_attributes == ["district", "household"]
    monkeypatch.setenv("OUTREACH_EXPORT_ATTRIBUTES", "district,phone")
    with pytest.raises(ValueError, match="phone identify a resident and can never be exported"):
        Settings(_env_file=None)
