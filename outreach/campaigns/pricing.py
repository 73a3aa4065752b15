"""SMS prices: a price per segment by destination number prefix (OUTREACH_SMS_PRICES)."""

from __future__ import annotations

from collections.abc import Mapping


def price_for(address: str, prices: Mapping[str, float]) -> tuple[float, bool]:
    """The price of a segment to `address` (longest matching prefix), and whether one was known."""
    matching = [prefix for prefix in prices if address.startswith(prefix)]
    if matching:
        return prices[max(matching, key=len)], True
    return max(prices.values(), default=0.0), False
