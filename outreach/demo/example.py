"""The consultation the demo runs: the example campaign and the districts of Gdańsk it asks.

The campaign file comes from `examples/` in a checkout, else from its copy packaged in
`outreach/data/`, beside the districts (`outreach.inbound.enrolment.load_districts` reads those): the
demo also runs from an installed wheel, where neither `examples/` nor `../shared/data/` exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from flows.campaign import Campaign
from flows.loader import load_campaign, load_campaign_file
from outreach.inbound.enrolment import District

EXAMPLE = "park_orunski.yaml"
EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"


def load_example() -> Campaign:
    """The campaign file from `examples/` in a checkout, else its packaged copy."""
    path = EXAMPLES_DIR / EXAMPLE
    if path.is_file():
        return load_campaign_file(path)
    packaged = resources.files("outreach") / "data" / EXAMPLE
    return load_campaign(packaged.read_text(encoding="utf-8"), source=f"outreach/data/{EXAMPLE}")


def audience_districts(flow: Campaign, districts: Sequence[District]) -> list[District]:
    """The districts the campaign asks (all of them when its audience names none)."""
    names = flow.audience.where.get("district")
    return [d for d in districts if names is None or d.name in names]
