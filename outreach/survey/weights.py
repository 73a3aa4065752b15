"""Weights that let respondents stand for the population (pure numpy, no I/O).

The base weight of a respondent is the inverse of their inclusion probability (1 without a sample
design). Post-stratification on one dimension, or on the joint cells of several, scales the base
weights so that each cell's weighted share is its population share; raking (iterative proportional
fitting) does so for several dimensions at once, one margin after the other, until every weighted
share is within `tolerance` of its target. Optional trimming caps every weight at `trim` times the
mean and rakes again, until both hold. Weights are normalised to sum to n, the number of
respondents, so a weighted count reads like a count.

Kish's effective n, (Σw)²/Σw², is the number of equally weighted respondents that would give the
same precision; the design effect n/n_eff is what weighting costs in precision.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

import numpy as np
import numpy.typing as npt

from outreach.survey.weighting_error import WeightingError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
Method = Literal["none", "post-stratification", "raking"]
K = TypeVar("K", bound=Hashable)

TOLERANCE = 1e-9  # largest gap between a weighted share and its target share, as a fraction
MAX_ITERATIONS = 1000
_SHOWN = 5  # values named in an error before "and N more"


@dataclass(frozen=True)
class Weights:
    """One weight per respondent (in the order given), summing to n, and how they were made."""

    values: FloatArray
    method: Method
    dimensions: tuple[str, ...]
    iterations: int  # raking rounds (1 for post-stratification, 0 for none)
    trimmed: int  # respondents whose weight sits at the cap

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def effective_n(self) -> float:
        return kish_effective_n(self.values)

    @property
    def design_effect(self) -> float:
        return design_effect(self.values)


def base_weights(inclusion_probabilities: npt.ArrayLike) -> FloatArray:
    """1/π for each respondent; every π must lie in (0, 1]."""
    probabilities = np.asarray(inclusion_probabilities, dtype=np.float64)
    bad = ~((probabilities > 0) & (probabilities <= 1))  # also catches NaN
    if bad.any():
        raise WeightingError(
            f"{int(bad.sum())} inclusion probabilities are not in (0, 1], "
            f"e.g. {probabilities[bad][0]!r} for respondent {int(np.flatnonzero(bad)[0])}"
        )
    return 1.0 / probabilities


def normalised(weights: npt.ArrayLike) -> FloatArray:
    """The weights scaled to sum to their number, n."""
    array = _checked(weights)
    if len(array) == 0:
        return array
    total = float(array.sum())
    if total <= 0:
        raise WeightingError("the weights sum to zero: nobody could be weighted")
    return array * (len(array) / total)


def kish_effective_n(weights: npt.ArrayLike) -> float:
    """(Σw)²/Σw²: n for equal weights, fewer the more the weights vary; 0 for no respondents."""
    array = np.asarray(weights, dtype=np.float64)
    squares = float(np.dot(array, array))
    return float(array.sum()) ** 2 / squares if squares > 0 else 0.0


def design_effect(weights: npt.ArrayLike) -> float:
    """n / n_eff: 1 for equal weights; how many times the variance of a share grows by weighting."""
    array = np.asarray(weights, dtype=np.float64)
    effective = kish_effective_n(array)
    return len(array) / effective if effective > 0 else float("nan")


def unweighted(n: int) -> Weights:
    return Weights(np.ones(n), "none", (), 0, 0)


def post_stratify(
    cells: Sequence[K],
    targets: Mapping[K, float],
    base: npt.ArrayLike | None = None,
    dimension: str = "cell",
) -> Weights:
    """Post-stratification: each respondent's base weight times target share / weighted sample share
    of their cell. A cell is a value of one dimension or a tuple of values over several (joint
    cells); `targets` maps each cell to its population or share (scaled to shares here)."""
    keys = list(targets)
    codes = _codes(dimension, cells, keys)
    start = _start(base, len(codes))
    shares = _shares(dimension, targets)
    totals = _totals(codes, start, len(keys))
    _refuse_empty(dimension, keys, totals)
    values = start * (shares * len(codes) / totals)[codes]
    return Weights(values, "post-stratification", (dimension,), 1, 0)


def rake(
    columns: Mapping[str, Sequence[str | None]],
    targets: Mapping[str, Mapping[str, float]],
    base: npt.ArrayLike | None = None,
    *,
    tolerance: float = TOLERANCE,
    max_iterations: int = MAX_ITERATIONS,
    trim: float | None = None,
) -> Weights:
    """Raking: respondents' values per dimension (`columns`, one sequence per dimension, in the
    respondents' order) against the population per value (`targets`, populations or shares; each
    dimension scaled to shares). One dimension is post-stratification. With `trim`, weights are
    capped at trim × the mean after every round and raked again until the cap and the margins hold."""
    dimensions = tuple(targets)
    if not dimensions:
        raise WeightingError("no dimension to weight on")
    missing = [dimension for dimension in dimensions if dimension not in columns]
    if missing:
        raise WeightingError(f"the respondents have no values for {', '.join(missing)}")
    if trim is not None and not trim > 1:
        raise WeightingError(f"trim must be more than 1 (times the mean weight), not {trim}")
    if not tolerance > 0 or max_iterations < 1:
        raise WeightingError("raking needs a positive tolerance and at least one iteration")
    keys = {dimension: list(targets[dimension]) for dimension in dimensions}
    codes = {dimension: _codes(dimension, columns[dimension], keys[dimension]) for dimension in dimensions}
    n = _same_length(codes)
    weights = _start(base, n)
    shares = {dimension: _shares(dimension, targets[dimension]) for dimension in dimensions}
    for dimension in dimensions:
        totals = _totals(codes[dimension], weights, len(keys[dimension]))
        _refuse_empty(dimension, keys[dimension], totals)
    method: Method = "raking" if len(dimensions) > 1 else "post-stratification"
    gap = (dimensions[0], 0, np.inf)
    for iteration in range(1, max_iterations + 1):
        for dimension in dimensions:
            totals = _totals(codes[dimension], weights, len(keys[dimension]))
            weights = weights * (shares[dimension] * n / totals)[codes[dimension]]
        if trim is not None:
            weights = _capped(weights, trim)
        gap = _largest_gap(codes, shares, weights)
        if gap[2] <= tolerance:
            weights = normalised(weights)
            trimmed = 0 if trim is None else int(np.count_nonzero(weights >= trim * (1 - 1e-9)))
            return Weights(weights, method, dimensions, iteration, trimmed)
    dimension, index, size = gap
    hint = f"; a cap of {trim:g}× the mean weight may be too tight" if trim is not None else ""
    raise WeightingError(
        f"the margins cannot be met together: after {max_iterations} rounds of raking the weighted share of "
        f"{dimension}={keys[dimension][index]} is still {size:.2%} off its population share "
        f"(a combination of values has too few respondents){hint}"
    )


def _checked(weights: npt.ArrayLike) -> FloatArray:
    array = np.array(weights, dtype=np.float64)
    if array.ndim != 1:
        raise WeightingError("weights must be one number per respondent")
    if not np.isfinite(array).all() or (array < 0).any():
        raise WeightingError("weights must be finite and not negative")
    return array


def _start(base: npt.ArrayLike | None, n: int) -> FloatArray:
    if n == 0:
        raise WeightingError("no respondents to weight")
    if base is None:
        return np.ones(n)
    array = _checked(base)
    if len(array) != n:
        raise WeightingError(f"{len(array)} base weights for {n} respondents")
    if not (array > 0).all():
        raise WeightingError("every base weight must be positive (the inverse of an inclusion probability)")
    return normalised(array)


def _shares(dimension: str, targets: Mapping[K, float]) -> FloatArray:
    populations = np.array([targets[key] for key in targets], dtype=np.float64)
    if len(populations) == 0:
        raise WeightingError(f"the margins of {dimension} have no values")
    usable = (populations > 0) & np.isfinite(populations)
    bad = [key for key, fine in zip(targets, usable.tolist(), strict=True) if not fine]
    if bad:
        raise WeightingError(f"the population of {dimension}={_named(bad)} must be a positive number")
    shares: FloatArray = populations / populations.sum()
    return shares


def _codes(dimension: str, values: Sequence[K | None], keys: Sequence[K]) -> IntArray:
    """Each respondent's value as the index of its target; values the margins lack are an error."""
    index: dict[K | None, int] = {key: position for position, key in enumerate(keys)}
    codes = np.fromiter((index.get(value, -1) for value in values), dtype=np.intp, count=len(values))
    if (codes < 0).any():
        unknown = Counter(value for value, code in zip(values, codes, strict=True) if code < 0)
        listed = ", ".join(f"{_named([value])} ({count})" for value, count in unknown.most_common(_SHOWN))
        more = f" and {len(unknown) - _SHOWN} more" if len(unknown) > _SHOWN else ""
        raise WeightingError(
            f"{sum(unknown.values())} respondents have a value of {dimension} that the margins lack: "
            f"{listed}{more}; leave them out or add the values to the margins"
        )
    return codes


def _same_length(codes: Mapping[str, IntArray]) -> int:
    lengths = {len(array) for array in codes.values()}
    if len(lengths) != 1:
        raise WeightingError("every dimension needs one value per respondent")
    return lengths.pop()


def _refuse_empty(dimension: str, keys: Sequence[Hashable], totals: FloatArray) -> None:
    empty = [key for key, total in zip(keys, totals, strict=True) if total <= 0]
    if empty:
        shown = ", ".join(_named([key]) for key in empty[:_SHOWN])
        more = f" and {len(empty) - _SHOWN} more" if len(empty) > _SHOWN else ""
        raise WeightingError(
            f"no respondent has {dimension}={shown}{more}, which the margins give a share of the population: "
            f"the margins cannot be met (an empty cell); collapse it with a neighbouring value or weight "
            f"without {dimension}"
        )


def _totals(codes: IntArray, weights: FloatArray, size: int) -> FloatArray:
    """The weight per value (codes index the values)."""
    return np.bincount(codes, weights=weights, minlength=size).astype(np.float64, copy=False)


def _named(values: Sequence[Hashable]) -> str:
    value = values[0] if values else None
    if isinstance(value, tuple):
        return "×".join(str(part) for part in value)
    return "(none)" if value is None else str(value)


def _largest_gap(
    codes: Mapping[str, IntArray], shares: Mapping[str, FloatArray], weights: FloatArray
) -> tuple[str, int, float]:
    """The dimension, value index and size of the largest gap between weighted and target shares."""
    total = weights.sum()
    largest = ("", 0, -1.0)
    for dimension, array in codes.items():
        gaps = np.abs(_totals(array, weights, len(shares[dimension])) / total - shares[dimension])
        index = int(gaps.argmax())
        if gaps[index] > largest[2]:
            largest = (dimension, index, float(gaps[index]))
    return largest


def _capped(weights: FloatArray, trim: float) -> FloatArray:
    """Weights above trim × mean set to the cap and the rest scaled up so the total stays: the limit
    of "clip, rescale to the old total" repeated, found at once on the weights sorted high to low."""
    total = weights.sum()
    cap = trim * total / len(weights)
    if weights.max() <= cap:
        return weights
    ordered = np.sort(weights)[::-1]
    rest = total - np.concatenate(([0.0], np.cumsum(ordered)[:-1]))  # sum of all but the m largest
    capped = np.arange(len(ordered))  # m, the number at the cap
    scale = (total - capped * cap) / rest
    fits = scale * ordered <= cap
    m = int(np.argmax(fits))  # the fewest capped for which the rest, scaled, stays under the cap
    capped_weights: FloatArray = np.minimum(weights * scale[m], cap)
    return capped_weights
