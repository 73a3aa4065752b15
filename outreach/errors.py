"""The error a command an official or operator gave cannot be carried out, said in plain words."""

from __future__ import annotations

from flows.explanation import Explanation

__all__ = ["CommandError", "Explanation"]


class CommandError(Exception):
    """Shown as it is (no traceback) by the CLI, as 4xx by the API."""

    def __init__(self, message: str | Explanation) -> None:
        self.explanation = message if isinstance(message, Explanation) else None
        super().__init__(message.text if isinstance(message, Explanation) else message)
