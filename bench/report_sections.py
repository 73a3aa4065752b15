"""docs/BENCHMARKS.md in parts: each benchmark rewrites its own section, between its markers, and
leaves the others as they are (a section not there yet is added at the end)."""

from __future__ import annotations

from pathlib import Path


def write_section(report: Path, begin: str, end: str, section: str) -> None:
    """Put `section` (which starts with `begin` and ends with `end`) in place of the old one."""
    text = report.read_text() if report.exists() else "# Benchmarks\n"
    if begin in text and end in text:
        text = text[: text.index(begin)] + section + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    report.write_text(text)
