"""A warning or problem explained in words that can be translated: a stable code, the English template
with named placeholders (the officials' catalog's msgid) and its parameters. Raised in flows (the loader's
problems) and above it (campaign warnings, refusals, samples), so it lives at the bottom."""

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
    # Parameters that are themselves words of the catalog (a campaign's status), translated too; a
    # parameter may be an Explanation itself (a refusal giving the sample's reason), said in its place.
    worded: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return self.template % {
            name: value.text if isinstance(value, Explanation) else value for name, value in self.params.items()
        }
