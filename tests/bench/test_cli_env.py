"""The benches' `outreach` processes read their settings from bench/cli_env.py: a bench's launch to its
own fake register (bench-scale's 500,000, bench-inbound's 2,000) needs no approver."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType

import pytest

from outreach.settings import Settings

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "cli_env.py"
LARGEST_BENCH_LAUNCH = 500_000  # bench/scale.py's default


def load_cli_env() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_cli_env", SCRIPT)  # bench/ holds scripts, no package
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_bench_process_launches_the_largest_bench_campaign_without_an_approver(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env = load_cli_env().outreach_cli_env("sqlite+aiosqlite:///bench.db", spool_dir=str(tmp_path / "spool"))
    for name in [name for name in os.environ if name.startswith("OUTREACH_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings(_env_file=None)
    assert settings.admin_approval_threshold >= LARGEST_BENCH_LAUNCH
    assert settings.database_url == "sqlite+aiosqlite:///bench.db"
    assert str(settings.spool_dir) == str(tmp_path / "spool")
