"""What a caller asks of the weighting (margins, dimensions, trim, collapses, thin strata) and the
parsers of its options: without numpy, so that `outreach results` and `outreach export` read their
options without loading it (issue 18); outreach.results.weighting does the weighing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # a type alias only; its module brings numpy
    from outreach.survey.margin_weights import Collapse

Thin = Literal["weight", "leave"]  # what to do with a value of fewer than THIN_STRATUM respondents
THIN_CHOICES: tuple[Thin, ...] = ("weight", "leave")


@dataclass(frozen=True)
class WeightingRequest:
    margins: str  # a name of margins in the store
    by: tuple[str, ...] = ()  # none named: every dimension of the margins
    trim: float | None = None  # cap at trim × the mean weight
    collapse: Collapse = field(default_factory=dict)
    thin: Thin = "weight"  # thin strata weighted like the rest (with a warning), or left unweighted


def parse_collapse(items: Sequence[str]) -> dict[str, dict[str, str]]:
    """`DIM:VALUE=NEIGHBOUR` items as the collapses `weigh` takes (ValueError naming a malformed one)."""
    collapse: dict[str, dict[str, str]] = {}
    for item in items:
        dimension, colon, rest = item.partition(":")
        value, equals, neighbour = rest.partition("=")
        if not (colon and equals and dimension.strip() and value.strip() and neighbour.strip()):
            raise ValueError(f"collapse {item!r}: write it as DIMENSION:VALUE=NEIGHBOUR, e.g. district:Oliwa=Przymorze")
        collapse.setdefault(dimension.strip(), {})[value.strip()] = neighbour.strip()
    return collapse


def parse_thin(value: str) -> Thin:
    """What to do with thin strata, by name (ValueError naming the choices)."""
    for choice in THIN_CHOICES:
        if value == choice:
            return choice
    raise ValueError(f"thin {value!r}: use {' or '.join(THIN_CHOICES)}")
