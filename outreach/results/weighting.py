"""Respondents' weights per weighting cell: the cells storage counted (values of the dimensions
weighted on, inclusion probability) turned into one weight per cell with outreach.survey's
`weigh`. Respondents of one cell share their weight, so results and exports look weights up by cell.

Respondents whose value of a dimension matches no margin (or who have none) cannot be weighted:
they are left out of weighted figures and counted per value, never dropped silently.

A value with fewer than THIN_STRATUM respondents (a thin stratum) is weighted like the rest unless
asked otherwise: collapsed with a neighbour the caller names, or (thin="leave") left unweighted on
its dimension, its target being its own share of the sample (inverse inclusion probabilities) instead
of the population's, so its respondents are not scaled up to stand for many others.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from outreach.results.weighting_request import Thin
from outreach.survey.estimates import THIN_STRATUM
from outreach.survey.margin_weights import Collapse, MarginWeights, weigh
from outreach.survey.margins import Margins, fold_value
from outreach.survey.weighting_error import WeightingError
from storage.weighting_cells import RespondentCell, Values

NO_VALUE = ""  # a respondent without the attribute, in the counts of unmatched values


@dataclass(frozen=True)
class CellWeights:
    weighting: MarginWeights
    weights: Mapping[tuple[Values, float], float]  # (values as written, inclusion probability) -> weight
    # dimension -> value as written (NO_VALUE: none) -> respondents left out for it
    unmatched: Mapping[str, Mapping[str, int]]
    left_out: int  # respondents left out (each once, however many of their values match nothing)
    # dimension -> folded value -> the respondents' share of the sample it was weighted to instead of
    # the population's (thin strata left unweighted)
    left_unweighted: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

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


def cell_weights(
    margins: Margins,
    dimensions: Sequence[str],
    cells: Sequence[RespondentCell],
    *,
    trim: float | None = None,
    collapse: Collapse | None = None,
    thin: Thin = "weight",
) -> CellWeights:
    """Weights for the respondents counted in `cells` (raises WeightingError when there are none to
    weight, an empty cell, or margins that cannot be met); with thin="leave", thin strata are left
    unweighted on their dimension."""
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
    left = _sample_shares(margins, dimensions, kept, _thin_values(margins, dimensions, kept, collapse or {}))
    targets = _with_sample_shares(margins, left) if thin == "leave" else margins
    counts = np.array([cell.respondents for cell in kept], dtype=np.intp)
    attributes = {
        dimension: [value for cell in kept for value in [cell.values[position]] * cell.respondents]
        for position, dimension in enumerate(dimensions)
    }
    probabilities = np.repeat([cell.inclusion_probability for cell in kept], counts)
    weighting = weigh(targets, dimensions, attributes, probabilities, collapse=collapse, trim=trim)
    starts = np.cumsum(counts) - counts  # each cell's first respondent
    values = weighting.weights.values[starts].tolist()
    weights = {(cell.values, cell.inclusion_probability): value for cell, value in zip(kept, values, strict=True)}
    return CellWeights(weighting, weights, unmatched, left_out, left if thin == "leave" else {})


def _thin_values(
    margins: Margins, dimensions: Sequence[str], kept: Sequence[RespondentCell], collapse: Collapse
) -> dict[str, set[str]]:
    """Per dimension, the (folded) values with some but fewer than THIN_STRATUM respondents, apart
    from those collapsed or collapsed into (their group is weighted as one)."""
    thin: dict[str, set[str]] = {}
    for position, dimension in enumerate(dimensions):
        counts: dict[str, int] = {}
        for cell in kept:
            value = fold_value(cell.values[position] or "")
            counts[value] = counts.get(value, 0) + cell.respondents
        grouped = {fold_value(name) for pair in collapse.get(dimension, {}).items() for name in pair}
        values = {value for value, count in counts.items() if count < THIN_STRATUM and value not in grouped}
        if values:
            thin[dimension] = values
    return thin


def _sample_shares(
    margins: Margins, dimensions: Sequence[str], kept: Sequence[RespondentCell], thin: Mapping[str, set[str]]
) -> dict[str, dict[str, float]]:
    """Each thin value's share of the sample: its respondents' inverse inclusion probabilities over
    everyone's (what the design alone would give it)."""
    shares: dict[str, dict[str, float]] = {}
    total = sum(cell.respondents / cell.inclusion_probability for cell in kept)
    for position, dimension in enumerate(dimensions):
        if dimension not in thin:
            continue
        per_value = dict.fromkeys(sorted(thin[dimension]), 0.0)
        for cell in kept:
            value = fold_value(cell.values[position] or "")
            if value in per_value:
                per_value[value] += cell.respondents / cell.inclusion_probability
        shares[dimension] = {value: base / total for value, base in per_value.items()}
    return shares


def _with_sample_shares(margins: Margins, shares: Mapping[str, Mapping[str, float]]) -> Margins:
    """The margins with each value in `shares` given a population that makes its share of its
    dimension the one given; the other values keep theirs, so their shares of each other hold. Joint
    cells holding such a value are scaled alike."""
    dimensions = {dimension: dict(populations) for dimension, populations in margins.dimensions.items()}
    factors: dict[tuple[str, str], float] = {}
    for dimension, wanted in shares.items():
        populations = dimensions[dimension]
        rest = sum(population for value, population in populations.items() if value not in wanted)
        taken = sum(wanted.values())
        for value, share in wanted.items():
            # rest of the population's weight over (1 - taken): the others' shares scale to 1 - taken
            new = share * rest / (1 - taken) if rest > 0 and taken < 1 else share
            factors[(dimension, value)] = new / populations[value]
            populations[value] = new
    joint = {
        cell_dimensions: {
            values: population
            * float(np.prod([factors.get(key, 1.0) for key in zip(cell_dimensions, values, strict=True)]))
            for values, population in cells.items()
        }
        for cell_dimensions, cells in margins.joint.items()
    }
    return replace(margins, dimensions=dimensions, joint=joint)
