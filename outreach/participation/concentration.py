"""How concentrated answering is (pure): the share of all answers the most active 1% and 10% of
respondents gave, and the Gini coefficient of answers per respondent.

An answer here is a campaign a resident answered (one or more of its questions): the usual suspects
are the residents in every consultation, not the ones with the longest questionnaires.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class TopShare:
    residents: int  # the most active ceil(fraction × respondents), at least one
    share: float  # of all answers


def top_share(answers_per_respondent: Sequence[int], fraction: float) -> TopShare | None:
    """The most active `fraction` of respondents (rounded up: at least one resident) and their share
    of all answers; None without respondents. Ties do not matter: the residents taken give as many."""
    counts = sorted(answers_per_respondent, reverse=True)
    total = sum(counts)
    if not counts or total == 0:
        return None
    taken = max(1, math.ceil(fraction * len(counts) - 1e-9))  # 1% of 300 is 3, not 4 by rounding error
    return TopShare(taken, sum(counts[:taken]) / total)


def gini(answers_per_respondent: Sequence[int]) -> float | None:
    """Gini coefficient of answers per respondent: Σᵢ Σⱼ |xᵢ − xⱼ| / (2 n² mean); 0 when everybody
    answered as often, towards 1 when a few gave nearly all answers. None without respondents."""
    counts = sorted(answers_per_respondent)
    n = len(counts)
    total = sum(counts)
    if n == 0 or total == 0:
        return None
    # The sorted form of the double sum: Σᵢ (2i − n − 1) xᵢ over i = 1..n, divided by n Σx.
    return sum((2 * i - n - 1) * x for i, x in enumerate(counts, start=1)) / (n * total)
