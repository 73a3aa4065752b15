"""Pass or fail for a benchmark run, shared by the bench/ scripts (issue 18).

These machines are shared and noisy, so a run is judged on ratios to a baseline measured in the same
run (it slows down with the machine), or on a limit the code must keep whatever the load (a provider's
rate). Each check is printed with its absolute figures beside the load average, and a run that missed
any exits non-zero; absolute targets (under 60 s, under 0.8 s) are judged by reading a quiet run.

`make bench` runs the parts one after the other with OUTREACH_BENCH_VERDICTS naming a file each part
adds its checks to, then `python bench/verdicts.py FILE` prints them all as one table.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

VERDICTS_FILE = "OUTREACH_BENCH_VERDICTS"


@dataclass(frozen=True)
class Check:
    """`figure` (what was measured) held to `bound`: at most (a time) or at least (a rate or a share)."""

    what: str
    figure: float
    bound: float
    unit: str = ""
    at_least: bool = False
    basis: str = ""  # how the bound was found, e.g. "25 × the executemany baseline of 7.2 s"

    @property
    def kept(self) -> bool:
        return self.figure >= self.bound if self.at_least else self.figure <= self.bound

    def line(self) -> str:
        relation = "≥" if self.at_least else "≤"
        basis = f" ({self.basis})" if self.basis else ""
        return (
            f"{'kept' if self.kept else 'MISSED'}: {self.what}: {figure(self.figure)}{self.unit}, "
            f"bound {relation} {figure(self.bound)}{self.unit}{basis}"
        )


def figure(value: float) -> str:
    """A measured figure as a person reads it: 1,880 / 6.65 / 0.0912."""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}" if abs(value) >= 1 else f"{value:.3g}"


def ratio_check(
    what: str, measured: float, baseline: float, ratio: float, *, unit: str = "", at_least: bool = False
) -> Check:
    """`measured` held to `ratio` times a same-run `baseline`."""
    basis = f"{ratio:g} × the same-run baseline {figure(baseline)}{unit}"
    return Check(what, measured, ratio * baseline, unit, at_least, basis)


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} / {five:.2f} / {fifteen:.2f} (1/5/15 min) on {os.cpu_count()} CPUs"


def summary(checks: Sequence[Check]) -> str:
    """Every check on a line of its own, then the load the figures were taken under."""
    missed = sum(not check.kept for check in checks)
    head = f"{len(checks) - missed} of {len(checks)} checks kept" + (f", {missed} missed" if missed else "")
    return "\n".join([f"{head}; {load_average()}:", *(f"- {check.line()}" for check in checks)])


def finish(name: str, checks: Sequence[Check]) -> None:
    """Print the verdict of a run, and exit non-zero when any check missed."""
    print(f"\n{name}: {summary(checks)}", flush=True)
    record(name, checks)
    missed = [check.what for check in checks if not check.kept]
    if missed:
        raise SystemExit(f"{name}: missed {len(missed)}: {'; '.join(missed)}")


def record(name: str, checks: Sequence[Check]) -> None:
    """Add a part's checks, with the load they were taken under, to the file `make bench` named."""
    path = os.environ.get(VERDICTS_FILE)
    if not path:
        return
    load = " / ".join(f"{minutes:.2f}" for minutes in os.getloadavg())
    with open(path, "a", encoding="utf-8") as file:
        for check in checks:
            file.write(json.dumps({"part": name, **asdict(check), "kept": check.kept, "load": load}) + "\n")


def one_table(recorded: Iterable[str], parts: Sequence[str], missed: Iterable[str] = ()) -> str:
    """Every recorded check of every part as one Markdown table; a part that recorded none (it judges
    itself, or stopped before its verdict) is a row of its exit status."""
    rows = [json.loads(line) for line in recorded if line.strip()]
    missed = set(missed)
    lines = [
        "| part | check | figure | bound | verdict | load average (1/5/15 min) at its end |",
        "| --- | --- | ---: | ---: | --- | --- |",
    ]
    for part in parts:
        checks = [row for row in rows if row["part"] == part]
        for row in checks:
            relation = "≥" if row["at_least"] else "≤"
            bound = f"{relation} {figure(row['bound'])}{row['unit']}"
            basis = f" ({row['basis']})" if row["basis"] else ""
            verdict = "kept" if row["kept"] else "MISSED"
            lines.append(
                f"| {part} | {row['what']} | {figure(row['figure'])}{row['unit']} | {bound}{basis} | {verdict} "
                f"| {row['load']} |"
            )
        if not checks:
            verdict = "MISSED (exit status; its figures above)" if part in missed else "kept (exit status)"
            lines.append(f"| {part} | its own verdict | - | - | {verdict} | - |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="One table of every part's checks (make bench runs this).")
    parser.add_argument("file", help="the file OUTREACH_BENCH_VERDICTS named")
    parser.add_argument("--parts", required=True, help="the parts run, in order, space-separated")
    parser.add_argument("--missed", default="", help="the parts that exited non-zero, space-separated")
    arguments = parser.parse_args()
    try:
        with open(arguments.file, encoding="utf-8") as file:
            recorded = file.readlines()
    except FileNotFoundError:
        recorded = []
    print(one_table(recorded, arguments.parts.split(), arguments.missed.split()))


if __name__ == "__main__":
    main()
