"""The error a command an official or operator gave cannot be carried out, said in plain words."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Explanation:
    """A warning or refusal as a stable code, an English template with named placeholders and its
    parameters: the CLI and API print `text` (English, as always); the officials' pages look the
    template up in their catalog (it is the msgid) and fill in the same parameters."""

    code: str
    template: str
    params: Mapping[str, object] = field(default_factory=dict)
    # Parameters that are themselves words of the catalog (a campaign's status), translated too.
    worded: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return self.template % dict(self.params)


class CommandError(Exception):
    """Shown as it is (no traceback) by the CLI, as 4xx by the API."""

    def __init__(self, message: str | Explanation) -> None:
        self.explanation = message if isinstance(message, Explanation) else None
        super().__init__(message.text if isinstance(message, Explanation) else message)
