"""Who of a campaign's silent residents gets the reminders left (pure: counts in, counts out).

`uniform` gives every resident still waiting for a reminder the same chance: the reminders left are
shared over the strata in proportion to those waiting in each. `lagging_strata` spends them where the
silence is: only strata whose response rate is at or below the campaign's (their share of the answers
at or below their share of those asked) take any, and one reminder at a time goes to the stratum whose
projected response rate is lowest, each reminder raising its stratum's projection by the answers one
is expected to bring there. A stratum past its target (answering above the campaign's rate) gets none.

The scheduler (outreach.campaigns.reminders) reads the counts and sends; this module only decides.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from flows.model import ReminderStrategy
from outreach.survey.allocation import largest_remainders

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class StratumProgress:
    """One stratum of a campaign now."""

    asked: int  # residents with a conversation (drawn and not held back)
    answered: int  # of them, those who replied
    remindable: int  # of them, those a reminder may still reach (never replied, conversation open)

    @property
    def rate(self) -> float:
        return self.answered / self.asked if self.asked else 0.0


def lags(progress: Mapping[K, StratumProgress], stratum: K) -> bool:
    """The stratum's response rate is at or below the campaign's (not past its target)."""
    asked = sum(p.asked for p in progress.values())
    answered = sum(p.answered for p in progress.values())
    mine = progress[stratum]
    # r_s / a_s <= R / A, in whole numbers so equal rates compare equal.
    return mine.answered * asked <= answered * mine.asked


def share_reminders(
    strategy: ReminderStrategy, progress: Mapping[K, StratumProgress], budget: int | None
) -> dict[K, int]:
    """How many of the reminders left (`budget`; None: no limit) each stratum gets; never more than
    its silent residents. `uniform` spends the whole budget while anyone is silent; `lagging_strata`
    leaves strata past their target out, so it may spend less."""
    if budget is not None and budget < 0:
        raise ValueError(f"a budget of {budget} reminders")
    silent = {stratum: max(p.remindable, 0) for stratum, p in progress.items()}
    if strategy == "uniform":
        total = sum(silent.values())
        if budget is None or budget >= total:
            return silent
        return largest_remainders(budget, {stratum: float(count) for stratum, count in silent.items()})
    if strategy == "lagging_strata":
        return _to_the_lagging(progress, silent, budget)
    raise ValueError(f"unknown reminder strategy {strategy!r}")


def _to_the_lagging(progress: Mapping[K, StratumProgress], silent: Mapping[K, int], budget: int | None) -> dict[K, int]:
    strata = list(progress)
    open_strata = [stratum for stratum in strata if silent[stratum] and lags(progress, stratum)]
    shares = dict.fromkeys(strata, 0)
    room = sum(silent[stratum] for stratum in open_strata)
    if budget is None or budget >= room:
        return shares | {stratum: silent[stratum] for stratum in open_strata}
    given = dict.fromkeys(open_strata, 0)
    # (projected rate, order, stratum): the lowest projected rate first, ties to the earlier stratum.
    queue = [(progress[s].rate, order, s) for order, s in enumerate(open_strata)]
    heapq.heapify(queue)
    for _ in range(budget):
        if not queue:
            break
        projected, order, stratum = heapq.heappop(queue)
        given[stratum] += 1
        if given[stratum] < silent[stratum]:
            heapq.heappush(queue, (projected + _gain(progress[stratum]), order, stratum))
    return shares | given


def _gain(progress: StratumProgress) -> float:
    """How much one reminder is expected to raise the stratum's response rate: the answers it brings
    (the stratum's own rate, drawn towards one half so a stratum nobody answered in yet still moves
    as it is reminded) over those asked."""
    return (progress.answered + 1) / (progress.asked + 2) / max(progress.asked, 1)
