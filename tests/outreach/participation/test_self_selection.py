"""Sampled versus self-enrolled answers per question, with the difference; small groups withheld."""

from __future__ import annotations

import pytest

from flows.campaign import Campaign
from flows.loader import load_campaign
from outreach.participation.self_selection import (
    OTHER,
    SAMPLED,
    SELF_ENROLLED,
    GroupAnswerCount,
    group_of,
    self_selection,
)

FLOW = """
name: Park
languages: [pl]
channels: [sms]
questions:
  - {id: visits, type: yesno, text: {pl: "Czy bywasz w parku?"}}
  - {id: age, type: number, text: {pl: "Ile masz lat?"}}
"""


def flow() -> Campaign:
    return load_campaign(FLOW)


# 10 sampled (8 yes, 2 no; ages 30 × 10), 6 self-enrolled (1 yes, 5 no; ages 60 × 6).
RESPONDENTS = {SAMPLED: 10, SELF_ENROLLED: 6}
ANSWERS = [
    GroupAnswerCount(SAMPLED, "visits", "yes", 8),
    GroupAnswerCount(SAMPLED, "visits", "no", 2),
    GroupAnswerCount(SELF_ENROLLED, "visits", "yes", 1),
    GroupAnswerCount(SELF_ENROLLED, "visits", "no", 5),
    GroupAnswerCount(SAMPLED, "age", 30, 10),
    GroupAnswerCount(SELF_ENROLLED, "age", 60, 6),
]


def test_groups_self_enrolled_first_then_drawn() -> None:
    assert group_of(True, "self-enrolment") == SELF_ENROLLED  # drawn, but in the register by choice
    assert group_of(True, "import") == SAMPLED
    assert group_of(False, "import") == OTHER
    assert group_of(False, None) == OTHER


def test_shares_side_by_side_with_the_difference() -> None:
    figures = self_selection(flow(), RESPONDENTS, ANSWERS, k=1)
    assert figures.respondents == {SAMPLED: 10, SELF_ENROLLED: 6, OTHER: 0}
    visits, age = figures.questions
    assert visits.sampled.shares == pytest.approx({"yes": 0.8, "no": 0.2})
    assert visits.self_enrolled.shares == pytest.approx({"yes": 1 / 6, "no": 5 / 6})
    assert visits.difference == pytest.approx({"yes": 0.8 - 1 / 6, "no": 0.2 - 5 / 6})
    assert (age.sampled.mean, age.self_enrolled.mean, age.mean_difference) == (30.0, 60.0, -30.0)
    assert age.difference is None


def test_small_cells_are_withheld_and_leave_no_difference() -> None:
    figures = self_selection(flow(), RESPONDENTS, ANSWERS, k=5)
    visits = figures.questions[0]
    # Sampled: 2 said no (< 5), so no and its complement yes are withheld; self-enrolled: 1 said yes.
    assert visits.sampled.answered == 10
    assert visits.sampled.shares == {"yes": None, "no": None}
    assert visits.self_enrolled.shares == {"yes": None, "no": None}
    assert visits.difference == {"yes": None, "no": None}
    assert figures.questions[1].mean_difference == -30.0  # 10 and 6 answered: means shown
    few = self_selection(flow(), {SAMPLED: 10, SELF_ENROLLED: 3}, ANSWERS[:2], k=5)
    assert few.respondents[SELF_ENROLLED] is None
    assert few.questions[0].self_enrolled.answered is None
