"""A problem found in a valid-looking campaign, with the path of the node it concerns.

The path lets the loader point at the exact line:column of that node in the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Path = tuple[str | int, ...]


def format_path(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


@dataclass(frozen=True)
class Problem:
    path: Path
    message: str
    # Whether the problem is the mapping key itself (e.g. an unknown option in `next`) or its value.
    part: Literal["key", "value"] = "value"

    def __str__(self) -> str:
        return f"{format_path(self.path)}: {self.message}" if self.path else self.message
