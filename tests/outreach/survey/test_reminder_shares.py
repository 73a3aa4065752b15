"""Sharing the reminders left over a campaign's strata (pure): uniform by the silent in each,
lagging_strata to the strata answering least, none to a stratum past its target."""

from __future__ import annotations

import pytest

from outreach.survey.reminder_shares import StratumProgress, lags, share_reminders

# 100 asked in each; the centre answered 40, the outskirts 10 and the suburbs 25: the campaign 25%.
PROGRESS = {
    "centre": StratumProgress(asked=100, answered=40, remindable=60),
    "outskirts": StratumProgress(asked=100, answered=10, remindable=90),
    "suburbs": StratumProgress(asked=100, answered=25, remindable=75),
}


def test_without_a_limit_uniform_reminds_every_silent_resident() -> None:
    assert share_reminders("uniform", PROGRESS, None) == {"centre": 60, "outskirts": 90, "suburbs": 75}


def test_uniform_shares_a_limit_by_the_silent_in_each_stratum() -> None:
    # 45 reminders over 60 + 90 + 75 silent: a fifth of each.
    assert share_reminders("uniform", PROGRESS, 45) == {"centre": 12, "outskirts": 18, "suburbs": 15}
    assert sum(share_reminders("uniform", PROGRESS, 46).values()) == 46  # largest remainders: exact


def test_a_stratum_past_its_target_gets_no_reminder() -> None:
    assert not lags(PROGRESS, "centre")  # 40% against the campaign's 25%
    assert lags(PROGRESS, "suburbs")  # exactly at the campaign's rate: not past it
    assert share_reminders("lagging_strata", PROGRESS, None) == {"centre": 0, "outskirts": 90, "suburbs": 75}


def test_lagging_strata_gives_the_first_reminders_to_the_stratum_answering_least() -> None:
    # The outskirts at 10% take reminders until their projected rate (each reminder expected to bring
    # 11/102 of an answer, over 100 asked) meets the suburbs' 25%: about 139 reminders; 90 are silent.
    assert share_reminders("lagging_strata", PROGRESS, 50) == {"centre": 0, "outskirts": 50, "suburbs": 0}
    shares = share_reminders("lagging_strata", PROGRESS, 120)
    assert shares == {"centre": 0, "outskirts": 90, "suburbs": 30}  # all of the outskirts, then the suburbs
    assert sum(shares.values()) == 120


def test_lagging_strata_may_leave_reminders_unspent_rather_than_remind_those_past_target() -> None:
    assert share_reminders("lagging_strata", PROGRESS, 500) == {"centre": 0, "outskirts": 90, "suburbs": 75}


def test_a_stratum_nobody_answered_in_yet_still_moves_as_it_is_reminded() -> None:
    # Two strata with no answers at all: neither runs away with every reminder.
    progress = {"a": StratumProgress(50, 0, 50), "b": StratumProgress(50, 0, 50), "c": StratumProgress(50, 20, 30)}
    assert share_reminders("lagging_strata", progress, 20) == {"a": 10, "b": 10, "c": 0}


def test_a_negative_budget_or_an_unknown_strategy_is_refused() -> None:
    with pytest.raises(ValueError, match="budget of -1"):
        share_reminders("uniform", PROGRESS, -1)
    with pytest.raises(ValueError, match="unknown reminder strategy"):
        share_reminders("loudest", PROGRESS, 1)  # type: ignore[arg-type]
