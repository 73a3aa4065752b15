"""The demo's example campaign and city: the packaged copies match their sources, the packaged
example serves without a checkout, and the districts cover the city and the campaign's audience."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.campaign import Campaign
from outreach.demo import example
from outreach.demo.example import EXAMPLE, audience_districts, load_example
from outreach.inbound.enrolment import load_districts

REPO = Path(__file__).resolve().parents[3]
DISTRICTS_FILE = "gdansk_districts.csv"
SHARED_DISTRICTS = REPO.parent / "shared" / "data" / DISTRICTS_FILE
PACKAGED = REPO / "outreach" / "data"


def test_packaged_copies_match_their_sources() -> None:
    assert (PACKAGED / EXAMPLE).read_bytes() == (REPO / "examples" / EXAMPLE).read_bytes()
    if not SHARED_DISTRICTS.exists():
        pytest.skip("../shared/data is not next to this checkout")
    assert (PACKAGED / DISTRICTS_FILE).read_bytes() == SHARED_DISTRICTS.read_bytes()


def test_without_a_checkout_the_packaged_example_serves(
    flow: Campaign, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(example, "EXAMPLES_DIR", tmp_path / "no-examples-here")
    assert load_example() == flow


def test_districts_cover_the_city_and_the_audience(flow: Campaign) -> None:
    districts = load_districts()
    assert len(districts) == 35
    assert sum(d.population for d in districts) == 490_301
    assert {d.name for d in audience_districts(flow, districts)} == set(flow.audience.where["district"])
