"""Respondents weighted against a named set of margins (pure): their attributes folded as margin values
are, values with too few answers collapsed into a neighbour the caller names, then post-stratification
on one dimension (or on the margins' joint cells when the file has them for exactly the dimensions
asked for) and raking on several. Values are shown as the margins write them, in errors too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy.typing as npt

from outreach.survey.margins import JOINT, Margins, fold_value
from outreach.survey.weighting_error import WeightingError
from outreach.survey.weights import MAX_ITERATIONS, TOLERANCE, Weights, base_weights, rake

Collapse = Mapping[str, Mapping[str, str]]  # dimension -> value -> the neighbour it joins (as written)


@dataclass(frozen=True)
class MarginWeights:
    weights: Weights
    margins: str  # the margins' name
    by: tuple[str, ...]
    joint: bool  # post-stratified on joint cells from the margins file (not raked on each dimension)
    # dimension -> (value, neighbour) pairs collapsed, as the margins write them
    collapsed: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)

    @property
    def method(self) -> str:
        return self.weights.method


def weigh(
    margins: Margins,
    by: Sequence[str],
    attributes: Mapping[str, Sequence[str | None]],
    inclusion_probabilities: npt.ArrayLike | None = None,
    *,
    collapse: Collapse | None = None,
    trim: float | None = None,
    tolerance: float = TOLERANCE,
    max_iterations: int = MAX_ITERATIONS,
) -> MarginWeights:
    """Weights for the respondents whose attributes are `attributes` (per dimension, one value each, in
    the respondents' order), drawn with `inclusion_probabilities` (equal when None). An unknown
    dimension is a MarginsError; an empty cell, a value the margins lack or margins that cannot be met
    together a WeightingError."""
    dimensions = tuple(dict.fromkeys(by))
    if not dimensions:
        raise WeightingError("no dimension to weight on: name one or more with --by")
    for dimension in dimensions:
        margins.shares(dimension)  # an unknown dimension: the MarginsError names those there are
    merges = _merges(margins, dimensions, collapse or {})
    targets = {dimension: _targets(margins, dimension, merges.get(dimension, {})) for dimension in dimensions}
    missing = [dimension for dimension in dimensions if dimension not in attributes]
    if missing:
        raise WeightingError(f"the respondents have no values for {', '.join(missing)}")
    columns = {
        dimension: _shown_all(margins, dimension, attributes[dimension], merges.get(dimension, {}))
        for dimension in dimensions
    }
    base = None if inclusion_probabilities is None else base_weights(inclusion_probabilities)
    collapsed = {
        dimension: tuple(
            (margins.label(dimension, value), margins.label(dimension, into)) for value, into in pairs.items()
        )
        for dimension, pairs in merges.items()
    }
    joint = _joint_targets(margins, dimensions, merges) if len(dimensions) > 1 else None
    if joint is not None:
        # One dimension whose values are the joint cells: post-stratification, trimmed like raking.
        name = JOINT.join(dimensions)
        columns = {name: [_cell(values) for values in zip(*(columns[d] for d in dimensions), strict=True)]}
        targets = {name: joint}
    raked = rake(columns, targets, base, tolerance=tolerance, max_iterations=max_iterations, trim=trim)
    weights = replace(raked, dimensions=dimensions)
    return MarginWeights(weights, margins.name, dimensions, joint is not None, collapsed)


def _merges(margins: Margins, dimensions: tuple[str, ...], collapse: Collapse) -> dict[str, dict[str, str]]:
    """The collapses asked for, folded and checked: both values in the margins, no chains."""
    merges: dict[str, dict[str, str]] = {}
    for dimension, pairs in collapse.items():
        if dimension not in dimensions:
            raise WeightingError(f"cannot collapse values of {dimension}: it is not among the dimensions weighted on")
        known = margins.shares(dimension)
        folded: dict[str, str] = {}
        for value, neighbour in pairs.items():
            for name in (value, neighbour):
                if fold_value(name) not in known:
                    raise WeightingError(f"cannot collapse {dimension}={name}: margins {margins.name!r} lack it")
            if fold_value(value) == fold_value(neighbour):
                raise WeightingError(f"cannot collapse {dimension}={value} into itself")
            folded[fold_value(value)] = fold_value(neighbour)
        chained = [value for value, neighbour in folded.items() if neighbour in folded]
        if chained:
            raise WeightingError(
                f"{dimension}={margins.label(dimension, folded[chained[0]])} is collapsed itself: "
                f"collapse {margins.label(dimension, chained[0])} into the value it joins"
            )
        merges[dimension] = folded
    return merges


def _group(margins: Margins, dimension: str, folded: str, merges: Mapping[str, str]) -> str:
    """The label a margin value is weighted under: its own, or its group's after collapsing."""
    into = merges.get(folded, folded)
    joined = [value for value, neighbour in merges.items() if neighbour == into]
    return " + ".join(margins.label(dimension, value) for value in [into, *joined])


def _targets(margins: Margins, dimension: str, merges: Mapping[str, str]) -> dict[str, float]:
    targets: dict[str, float] = {}
    for value, population in margins.dimensions[dimension].items():
        group = _group(margins, dimension, value, merges)
        targets[group] = targets.get(group, 0.0) + population
    return targets


def _shown(margins: Margins, dimension: str, value: str | None, merges: Mapping[str, str]) -> str | None:
    """A respondent's value as its margin value is labelled (after collapsing); as written if unknown."""
    if value is None:
        return None
    folded = fold_value(value)
    if folded in margins.dimensions[dimension]:
        return _group(margins, dimension, folded, merges)
    return value.strip()


def _shown_all(
    margins: Margins, dimension: str, values: Sequence[str | None], merges: Mapping[str, str]
) -> list[str | None]:
    """`_shown` for every respondent, folding each distinct value once (folding is the slow part)."""
    shown: dict[str | None, str | None] = {}
    for value in values:
        if value not in shown:
            shown[value] = _shown(margins, dimension, value, merges)
    return [shown[value] for value in values]


def _cell(values: tuple[str | None, ...]) -> str | None:
    return None if None in values else JOINT.join(value or "" for value in values)


def _joint_targets(
    margins: Margins, dimensions: tuple[str, ...], merges: Mapping[str, Mapping[str, str]]
) -> dict[str, float] | None:
    """The joint cells' shares over exactly `dimensions` (labelled, collapsed), if the file has them."""
    cells, assumed = margins.joint_shares(dimensions)
    if assumed:
        return None
    targets: dict[str, float] = {}
    for values, share in cells.items():
        key = JOINT.join(
            _group(margins, dimension, value, merges.get(dimension, {}))
            for dimension, value in zip(dimensions, values, strict=True)
        )
        targets[key] = targets.get(key, 0.0) + share
    return targets
