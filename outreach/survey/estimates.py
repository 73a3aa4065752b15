"""Weighted shares of a question's answers and how sure they are (pure numpy, no I/O).

Per value: n, the unweighted share, the weighted share and the 95% margin of error
1.96·sqrt(p(1−p)/n_eff) around the weighted share p; per question: n, Kish's effective n and the
design effect, over the weights of the respondents who answered it. A multi answer counts towards
each of its keys, so its shares may add up to more than 1. Also the response rate per stratum and
the strata too thin to weight on.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar, cast

import numpy as np
import numpy.typing as npt

from outreach.survey.weighting_error import WeightingError

Z_95 = 1.96
THIN_STRATUM = 10  # fewer answers than this: a stratum's weights rest on too few people
Answer = str | tuple[str, ...] | frozenset[str]  # an option key, or the keys of a multi answer
K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class ValueEstimate:
    value: str
    n: int  # respondents who gave this value
    share: float  # n / respondents to the question
    weighted_share: float
    margin_of_error: float  # 95%, around weighted_share, from the question's effective n


@dataclass(frozen=True)
class QuestionEstimate:
    n: int  # respondents who answered
    effective_n: float
    design_effect: float
    values: tuple[ValueEstimate, ...]

    def value(self, key: str) -> ValueEstimate:
        return next(estimate for estimate in self.values if estimate.value == key)


def margin_of_error(share: float, effective_n: float, z: float = Z_95) -> float:
    """z·sqrt(p(1−p)/n_eff): the half-width of the (normal) confidence interval of a share."""
    if not 0 <= share <= 1:
        raise ValueError(f"a share lies in [0, 1], not {share}")
    if effective_n <= 0:
        return math.nan
    return z * math.sqrt(share * (1 - share) / effective_n)


def weighted_shares(answers: Sequence[Answer], weights: npt.ArrayLike | None = None) -> dict[str, float]:
    """Each value's share of the total weight of the respondents (weights default to 1 each)."""
    return {estimate.value: estimate.weighted_share for estimate in estimate_question(answers, weights).values}


def estimate_question(
    answers: Sequence[Answer],
    weights: npt.ArrayLike | None = None,
    keys: Sequence[str] = (),
    *,
    frequencies: npt.ArrayLike | None = None,
) -> QuestionEstimate:
    """The figures of one question from its respondents' answers and their weights (same order).
    `keys` lists values to report even when nobody gave them, first and in that order. With
    `frequencies`, each answer stands for that many respondents who gave it with the same weight
    (grouped data: the figures are those of the answers repeated)."""
    array = np.ones(len(answers)) if weights is None else np.asarray(weights, dtype=np.float64)
    if array.shape != (len(answers),):
        raise WeightingError(f"{array.size} weights for {len(answers)} answers")
    repeats = np.ones(len(answers)) if frequencies is None else np.asarray(frequencies, dtype=np.float64)
    if repeats.shape != (len(answers),) or (repeats < 0).any():
        raise WeightingError(f"{repeats.size} frequencies (none negative) for {len(answers)} answers")
    respondents, codes, seen = _coded(answers)
    order = list(dict.fromkeys([*keys, *sorted(seen)]))
    position = np.array([order.index(key) for key in seen], dtype=np.intp)[codes]
    tallies = np.bincount(position, weights=repeats[respondents], minlength=len(order))
    counts = dict(zip(order, np.rint(tallies).astype(np.int64).tolist(), strict=True))
    sums = np.bincount(position, weights=(array * repeats)[respondents], minlength=len(order))
    totals = dict(zip(order, sums.tolist(), strict=True))
    n = round(float(repeats.sum()))
    total = float(np.dot(array, repeats))
    squares = float(np.dot(array * array, repeats))
    effective = total**2 / squares if squares > 0 else 0.0
    values = []
    for key in order:
        weighted = totals[key] / total if total > 0 else math.nan
        values.append(
            ValueEstimate(
                value=key,
                n=counts[key],
                share=counts[key] / n if n else math.nan,
                weighted_share=weighted,
                margin_of_error=margin_of_error(min(weighted, 1.0), effective) if total > 0 else math.nan,
            )
        )
    return QuestionEstimate(n, effective, n / effective if n and effective > 0 else math.nan, tuple(values))


def response_rates(drawn: Mapping[K, int], answered: Mapping[K, int]) -> dict[K, float]:
    """Per stratum, the share of the drawn residents who answered (strata nobody was drawn in: none)."""
    return {stratum: answered.get(stratum, 0) / count for stratum, count in drawn.items() if count > 0}


def thin_strata(answered: Mapping[K, int], minimum: int = THIN_STRATUM) -> list[K]:
    """Strata with fewer than `minimum` answers (but some), whose weights to warn about."""
    return [stratum for stratum, count in answered.items() if 0 < count < minimum]


def _coded(answers: Sequence[Answer]) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], list[str]]:
    """(respondent, key code) for every key given, and the keys in the order first seen; one key per
    answer, the common case, needs no pairs."""
    index: dict[str, int] = {}
    if all(isinstance(answer, str) for answer in answers):
        plain = cast(Sequence[str], answers)
        codes = np.fromiter((index.setdefault(answer, len(index)) for answer in plain), np.intp, len(plain))
        return np.arange(len(plain), dtype=np.intp), codes, list(index)
    rows: list[int] = []
    keys: list[int] = []
    for row, answer in enumerate(answers):
        for key in _keys(answer):
            rows.append(row)
            keys.append(index.setdefault(key, len(index)))
    return np.array(rows, dtype=np.intp), np.array(keys, dtype=np.intp), list(index)


def _keys(answer: Answer) -> tuple[str, ...]:
    return (answer,) if isinstance(answer, str) else tuple(dict.fromkeys(answer))  # a key once per answer
