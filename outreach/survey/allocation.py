"""How many residents to draw in each stratum (pure): largest remainders, so the counts sum exactly to
the size; a stratum short of residents takes all it has and its shortfall is spread over the others by
the same rule, so the size is met whenever the audience allows.

Strata are any hashable keys (a campaign uses tuples of folded values, one per stratum dimension).
Weights say how the size is shared: population shares for proportional allocation, 1 each for equal
allocation, and the official's counts for fixed allocation.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


def largest_remainders(total: int, weights: Mapping[K, float]) -> dict[K, int]:
    """`total` shared in proportion to `weights` in whole numbers that sum exactly to `total`: each
    takes the floor of its quota, and what is left goes one by one to the largest remainders (ties
    to the larger weight, then to the earlier key)."""
    if total < 0:
        raise ValueError(f"cannot share out {total}")
    if any(weight < 0 or not math.isfinite(weight) for weight in weights.values()):
        raise ValueError("weights must be finite and not negative")
    whole = sum(weights.values())
    if total == 0:
        return dict.fromkeys(weights, 0)
    if whole <= 0:
        raise ValueError(f"cannot share out {total} over weights that are all zero")
    quotas = {key: total * weight / whole for key, weight in weights.items()}
    counts = {key: math.floor(quota) for key, quota in quotas.items()}
    left = total - sum(counts.values())
    order = list(weights)
    ranked = sorted(order, key=lambda key: (-(quotas[key] - counts[key]), -weights[key], order.index(key)))
    for key in ranked[:left]:
        counts[key] += 1
    return counts


@dataclass(frozen=True)
class StratumQuota(Generic[K]):
    stratum: K
    wanted: int  # its share of the size before any stratum ran short
    available: int  # residents eligible in it
    allocated: int  # to be drawn

    @property
    def short(self) -> bool:
        """It has fewer residents than its share of the size."""
        return self.available < self.wanted

    @property
    def inclusion_probability(self) -> float:
        """The chance of each of its residents to be drawn (a uniform draw inside the stratum)."""
        return self.allocated / self.available if self.available else 0.0


@dataclass(frozen=True)
class Allocation(Generic[K]):
    size: int  # asked for
    strata: tuple[StratumQuota[K], ...]  # in the order of the weights

    @property
    def allocated(self) -> int:
        return sum(quota.allocated for quota in self.strata)

    @property
    def shortfall(self) -> int:
        """How many fewer than `size` the audience allows (0 when the size is met)."""
        return self.size - self.allocated

    @property
    def short(self) -> list[StratumQuota[K]]:
        return [quota for quota in self.strata if quota.short]

    def quota(self, stratum: K) -> StratumQuota[K]:
        for quota in self.strata:
            if quota.stratum == stratum:
                return quota
        raise KeyError(stratum)


def allocate(size: int, weights: Mapping[K, float], available: Mapping[K, int]) -> Allocation[K]:
    """Share `size` over the strata of `weights` (missing from `available`: nobody there)."""
    if size < 0:
        raise ValueError(f"a sample of {size} residents")
    room = {stratum: max(available.get(stratum, 0), 0) for stratum in weights}
    wanted = largest_remainders(size, weights)
    allocated = dict(wanted)
    capped: set[K] = set()
    while True:
        over = {stratum for stratum, count in allocated.items() if count > room[stratum]}
        if not over:
            break
        excess = sum(allocated[stratum] - room[stratum] for stratum in over)
        for stratum in over:
            allocated[stratum] = room[stratum]
        capped |= over
        # A stratum capped before is full; spreading only over strata with room left ends the loop.
        open_strata = {
            stratum: weight
            for stratum, weight in weights.items()
            if stratum not in capped and weight > 0 and allocated[stratum] < room[stratum]
        }
        if not open_strata:
            break
        for stratum, extra in largest_remainders(excess, open_strata).items():
            allocated[stratum] += extra
    return Allocation(
        size,
        tuple(StratumQuota(stratum, wanted[stratum], room[stratum], allocated[stratum]) for stratum in weights),
    )


def equal_weights(strata: Iterable[K]) -> dict[K, float]:
    return dict.fromkeys(strata, 1.0)


def size_of_share(share: float, eligible: int) -> int:
    """A share of the eligible audience in residents (rounded half up; at least 1 of a non-empty one)."""
    if eligible <= 0:
        return 0
    return max(1, math.floor(share * eligible + 0.5))
