"""Sampled versus self-enrolled (pure): a campaign's answers from residents drawn in its sample beside
those from residents who enrolled by themselves, per question, with the difference, so an official
sees when a result leans on the self-selected.

Every respondent is in one group: `self_enrolled` (recruited via self-enrolment, drawn or not: they
chose to be in the register), else `sampled` (drawn in this campaign's sample), else `other`
(imported and not drawn: an unsampled campaign's register). Counts of fewer than k respondents are
withheld with their complements, as in every breakdown (outreach.survey.small_cells).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flows.answer_labels import answer_rows
from flows.campaign import Campaign
from outreach.campaigns.recruitment import VIA_SELF_ENROLMENT
from outreach.participation.models import GroupAnswers, QuestionComparison, SelfSelection
from outreach.survey.small_cells import suppressed_line, suppressed_table

SAMPLED, SELF_ENROLLED, OTHER = "sampled", "self_enrolled", "other"
GROUPS = (SAMPLED, SELF_ENROLLED, OTHER)
_COUNTED = ("yesno", "choice", "multi", "scale")


def group_of(drawn: bool, recruited_via: str | None) -> str:
    if recruited_via == VIA_SELF_ENROLMENT:
        return SELF_ENROLLED
    return SAMPLED if drawn else OTHER


@dataclass(frozen=True)
class GroupAnswerCount:
    """How many respondents of a group gave one answer (as stored) to one question."""

    group: str
    question_id: str
    value: Any
    count: int


@dataclass
class _Tally:
    answered: int = 0
    keys: dict[str, int] | None = None
    numbers: list[tuple[float, int]] | None = None


def self_selection(
    flow: Campaign, respondents: Mapping[str, int], answers: Sequence[GroupAnswerCount], *, k: int
) -> SelfSelection:
    """The comparison for `flow`'s questions from respondents per group and answers counted per group."""
    counts = {group: respondents.get(group, 0) for group in GROUPS}
    hidden_groups = suppressed_line(counts, k)
    language = flow.default_language
    questions = []
    for question in flow.questions:
        keys = [key for key, _ in answer_rows(question, language)] if question.type in _COUNTED else []
        tallies = {group: _Tally(keys=dict.fromkeys(keys, 0), numbers=[]) for group in GROUPS}
        for answer in answers:
            if answer.question_id != question.id or answer.group not in tallies:
                continue
            tally = tallies[answer.group]
            tally.answered += answer.count
            if question.type in ("number", "scale") and isinstance(answer.value, int | float):
                assert tally.numbers is not None
                tally.numbers.append((float(answer.value), answer.count))
            if keys:
                assert tally.keys is not None
                for key in answer.value if isinstance(answer.value, list) else [answer.value]:
                    if str(key) in tally.keys:
                        tally.keys[str(key)] += answer.count
        hidden_rows = suppressed_line({group: tallies[group].answered for group in GROUPS}, k, hidden_groups)
        cells: dict[tuple[str | None, str], int] = {
            (group, key): (tallies[group].keys or {})[key] for group in GROUPS for key in keys
        }
        hidden_cells = suppressed_table(cells, set(hidden_rows), k) if keys else set()
        figures = {
            group: _figures(tallies[group], keys, group in hidden_rows, {key for g, key in hidden_cells if g == group})
            for group in GROUPS
        }
        sampled, self_enrolled = figures[SAMPLED], figures[SELF_ENROLLED]
        difference = None
        if keys:
            difference = {
                key: _minus((sampled.shares or {}).get(key), (self_enrolled.shares or {}).get(key)) for key in keys
            }
        questions.append(
            QuestionComparison(
                id=question.id,
                type=question.type,
                sampled=sampled,
                self_enrolled=self_enrolled,
                other=figures[OTHER],
                difference=difference,
                mean_difference=_minus(sampled.mean, self_enrolled.mean),
            )
        )
    return SelfSelection(
        k=k,
        respondents={group: None if group in hidden_groups else counts[group] for group in GROUPS},
        questions=questions,
    )


def _minus(left: float | None, right: float | None) -> float | None:
    return None if left is None or right is None else left - right


def _figures(tally: _Tally, keys: Sequence[str], hidden: bool, hidden_keys: set[str]) -> GroupAnswers:
    if hidden:
        return GroupAnswers(answered=None, shares=None if not keys else dict.fromkeys(keys), mean=None)
    shares = None
    if keys:
        assert tally.keys is not None
        shares = {
            key: None if key in hidden_keys or not tally.answered else tally.keys[key] / tally.answered for key in keys
        }
    mean = None
    if tally.numbers and not hidden_keys:
        total = sum(count for _, count in tally.numbers)
        mean = math.fsum(value * count for value, count in tally.numbers) / total
    return GroupAnswers(answered=tally.answered, shares=shares, mean=mean)
