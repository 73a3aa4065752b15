"""The example campaign the demo runs, shared by the demo's tests."""

from __future__ import annotations

import pytest

from flows.campaign import Campaign
from outreach.demo.example import load_example


@pytest.fixture(scope="module")
def flow() -> Campaign:
    return load_example()
