"""Respondents' weights per weighting cell: the cells storage counted (values of the dimensions
weighted on, inclusion probability) turned into one weight per cell with outreach.survey's
`weigh`. Respondents of one cell share their weight, so results and exports look weights up by cell.

Respondents whose value of a dimension matches no margin (or who have none) cannot be weighted:
they are left out of weighted figures and counted per value, never dropped silently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from outreach.survey.margin_weights import Collapse, MarginWeights, weigh
from outreach.survey.margins import Margins, fold_value
from outreach.survey.weights import WeightingError
from storage.weighting_cells import RespondentCell, Values

NO_VALUE = ""  # a respondent without the attribute, in the counts of unmatched values


@dataclass(frozen=True)
class WeightingRequest:
    margins: str  # a name of margins in the store
    by: tuple[str, ...] = ()  # none named: every dimension of the margins
    trim: float | None = None  # cap at trim × the mean weight
    collapse: Collapse = field(default_factory=dict)


@dataclass(frozen=True)
class CellWeights:
    weighting: MarginWeights
    weights: Mapping[tuple[Values, float], float]  # (values as written, inclusion probability) -> weight
    # dimension -> value as written (NO_VALUE: none) -> respondents left out for it
    unmatched: Mapping[str, Mapping[str, int]]
    left_out: int  # respondents left out (each once, however many of their values match nothing)

    def weight(self, values: Values, inclusion_probability: float) -> float | None:
        return self.weights.get((values, inclusion_probability))


def dimensions_of(margins: Margins, by: Sequence[str]) -> tuple[str, ...]:
    """The dimensions to weight on (every one of the margins when none is named); an unknown one is a
    MarginsError naming those there are."""
    dimensions = tuple(dict.fromkeys(by)) or tuple(margins.dimensions)
    for dimension in dimensions:
        margins.shares(dimension)
    return dimensions


def matches(margins: Margins, dimension: str, value: str | None) -> bool:
    return value is not None and fold_value(value) in margins.dimensions[dimension]


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


def cell_weights(
    margins: Margins,
    dimensions: Sequence[str],
    cells: Sequence[RespondentCell],
    *,
    trim: float | None = None,
    collapse: Collapse | None = None,
) -> CellWeights:
    """Weights for the respondents counted in `cells` (raises WeightingError when there are none to
    weight, an empty cell, or margins that cannot be met)."""
    unmatched: dict[str, dict[str, int]] = {}
    kept: list[RespondentCell] = []
    left_out = 0
    for cell in cells:
        misses = [
            (dimension, value)
            for dimension, value in zip(dimensions, cell.values, strict=True)
            if not matches(margins, dimension, value)
        ]
        if not misses:
            kept.append(cell)
            continue
        left_out += cell.respondents
        for dimension, value in misses:
            per_value = unmatched.setdefault(dimension, {})
            written = NO_VALUE if value is None else value.strip()
            per_value[written] = per_value.get(written, 0) + cell.respondents
    if not kept:
        raise WeightingError(
            "no respondent can be weighted: nobody has answered yet, or no answer's values match the margins"
        )
    counts = np.array([cell.respondents for cell in kept], dtype=np.intp)
    attributes = {
        dimension: [value for cell in kept for value in [cell.values[position]] * cell.respondents]
        for position, dimension in enumerate(dimensions)
    }
    probabilities = np.repeat([cell.inclusion_probability for cell in kept], counts)
    weighting = weigh(margins, dimensions, attributes, probabilities, collapse=collapse, trim=trim)
    starts = np.cumsum(counts) - counts  # each cell's first respondent
    values = weighting.weights.values[starts].tolist()
    weights = {(cell.values, cell.inclusion_probability): value for cell, value in zip(kept, values, strict=True)}
    return CellWeights(weighting, weights, unmatched, left_out)
