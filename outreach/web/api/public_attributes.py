"""Which splits of the register and of answers the read API may publish counts for.

The rule of the read API and the exports: a resident attribute leaves the service only when
OUTREACH_EXPORT_ATTRIBUTES lists it (answer rows, filters, breakdowns, weighting), `language` always.
Coverage and the usual-suspects meter follow it: a split on an attribute the allowlist leaves out is
not computed for the API at all, however large its groups. Two splits are no resident's attribute and
stay: the channel an answer came on (every answer row carries it) and the recruitment source, the
service's own label for an import or a poster (what coverage exists to show, per source).
"""

from __future__ import annotations

from outreach.participation.meter import SPLITS
from outreach.settings import Settings

# Splits of the meter on a resident attribute, published only when allowlisted.
ATTRIBUTE_SPLITS = frozenset({"district"})


def published_attributes(settings: Settings) -> list[str]:
    """The attributes (and `language`) whose values the API may count residents by."""
    return list(dict.fromkeys(["language", *settings.export_attributes]))


def published_meter_splits(settings: Settings) -> list[str]:
    """The meter's splits the API may publish: channel and recruitment source, and the attribute splits
    the allowlist names."""
    allowed = published_attributes(settings)
    return [split for split in SPLITS if split not in ATTRIBUTE_SPLITS or split in allowed]
