"""A problem found in a valid-looking campaign, with the path of the node it concerns.

The path lets the loader point at the exact line:column of that node in the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from flows.explanation import Explanation

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
    # The message as a code, template and parameters, for pages that show it translated (None: English only).
    explanation: Explanation | None = None

    @classmethod
    def explained(
        cls, path: Path, code: str, template: str, part: Literal["key", "value"] = "value", **params: object
    ) -> Problem:
        """A problem whose message is `template` filled with `params` (the English as before)."""
        explanation = Explanation(code, template, params)
        return cls(path, explanation.text, part, explanation)

    def __str__(self) -> str:
        return f"{format_path(self.path)}: {self.message}" if self.path else self.message
