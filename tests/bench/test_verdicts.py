"""`make bench` prints every part's checks as one table at the end (bench/verdicts.py): each part adds
its checks to the file OUTREACH_BENCH_VERDICTS names when it finishes, kept or missed."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "verdicts.py"


def load_verdicts() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_verdicts", SCRIPT)  # bench/ holds scripts, no package
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_each_parts_checks_kept_or_missed_end_in_one_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    verdicts = load_verdicts()
    recorded = tmp_path / "verdicts.jsonl"
    monkeypatch.setenv(verdicts.VERDICTS_FILE, str(recorded))
    verdicts.finish("bench-scale", [verdicts.Check("launch, SQLite", 33.1, 60.0, " s", basis="25 × 2.4 s")])
    with pytest.raises(SystemExit):
        verdicts.finish("bench-cli", [verdicts.ratio_check("export rows/s", 40_000, 100_000, 0.5, at_least=True)])
    parts = "bench-scale bench-cli bench-inbound"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(recorded), "--parts", parts, "--missed", "bench-cli bench-inbound"],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = [line.split(" | ") for line in done.stdout.splitlines()[2:]]
    assert [(row[0], row[1], row[2], row[4]) for row in rows] == [
        ("| bench-scale", "launch, SQLite", "33.10 s", "kept"),
        ("| bench-cli", "export rows/s", "40,000", "MISSED"),
        ("| bench-inbound", "its own verdict", "-", "MISSED (exit status; its figures above)"),
    ]
    assert rows[1][3] == "≥ 50,000 (0.5 × the same-run baseline 100,000)"
    assert rows[0][5].count(" / ") == 2  # the load it was measured under
