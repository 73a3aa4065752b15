"""`campaign status`'s line on sends of unknown outcome: what reconciliation made of them."""

from __future__ import annotations

from collections.abc import Mapping

LABELS = (
    ("confirmed", "confirmed by the provider"),
    ("not_seen", "never reached it, queued again"),
    ("resent", "resent (on_unknown)"),
    ("given_up", "given up (on_unknown)"),
)


def status_lines(counts: Mapping[str, int]) -> list[str]:
    """One line when any send's outcome was lost; none otherwise."""
    parts = [f"{counts[key]:,} {label}" for key, label in LABELS if counts.get(key)]
    return ["sends of unknown outcome: " + ", ".join(parts)] if parts else []
