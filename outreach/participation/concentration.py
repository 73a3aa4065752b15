"""How concentrated answering is (pure): the share of all answers the most active 1% and 10% of
respondents gave, and the Gini coefficient of answers per respondent.

An answer here is a campaign a resident answered (one or more of its questions): the usual suspects
are the residents in every consultation, not the ones with the longest questionnaires.

Both are computed on a histogram (answers → residents who gave that many), which the database
counts (storage.meter_counts): a city's respondents come back as a few dozen rows, not one each.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class TopShare:
    residents: int  # the most active ceil(fraction × respondents), at least one
    share: float  # of all answers


def histogram_top_share(histogram: Mapping[int, int], fraction: float) -> TopShare | None:
    """The most active `fraction` of respondents (rounded up: at least one resident) and their share
    of all answers; None without respondents. Ties do not matter: the residents taken give as many."""
    respondents = sum(histogram.values())
    total = sum(answers * residents for answers, residents in histogram.items())
    if not respondents or total == 0:
        return None
    taken = max(1, math.ceil(fraction * respondents - 1e-9))  # 1% of 300 is 3, not 4 by rounding error
    left, given = taken, 0
    for answers in sorted(histogram, reverse=True):
        counted = min(left, histogram[answers])
        given += counted * answers
        left -= counted
        if not left:
            break
    return TopShare(taken, given / total)


def histogram_gini(histogram: Mapping[int, int]) -> float | None:
    """Gini coefficient of answers per respondent: Σᵢ Σⱼ |xᵢ − xⱼ| / (2 n² mean); 0 when everybody
    answered as often, towards 1 when a few gave nearly all answers. None without respondents."""
    n = sum(histogram.values())
    total = sum(answers * residents for answers, residents in histogram.items())
    if n == 0 or total == 0:
        return None
    # The sorted form of the double sum: Σᵢ (2i − n − 1) xᵢ over i = 1..n, divided by n Σx; the m
    # residents at positions a+1..a+m who gave x each weigh x · m · (2a + m − n) together (exact, in ints).
    weighted, before = 0, 0
    for answers in sorted(histogram):
        residents = histogram[answers]
        weighted += answers * residents * (2 * before + residents - n)
        before += residents
    return weighted / (n * total)


def top_share(answers_per_respondent: Sequence[int], fraction: float) -> TopShare | None:
    """histogram_top_share of these counts, one per respondent."""
    return histogram_top_share(Counter(answers_per_respondent), fraction)


def gini(answers_per_respondent: Sequence[int]) -> float | None:
    """histogram_gini of these counts, one per respondent."""
    return histogram_gini(Counter(answers_per_respondent))
