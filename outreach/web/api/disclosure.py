"""Small-cell suppression applied to the API's results by group (the rule: `outreach.survey.small_cells`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from outreach.survey.small_cells import suppressed_line, suppressed_table
from outreach.web.api.models import Group, GroupQuestionFigures
from storage.read_models import GroupResults, QuestionResult


@dataclass(frozen=True)
class QuestionShape:
    id: str
    type: str
    keys: Sequence[str]  # answer keys of yesno, choice, multi, scale; empty for number and text


def protected_groups(
    groups: Mapping[str | None, GroupResults], questions: Sequence[QuestionShape], k: int
) -> list[Group]:
    """The breakdown as it may be published: groups in order of their value (null last)."""
    hidden_groups = suppressed_line({value: group.respondents for value, group in groups.items()}, k)
    figures: dict[str | None, list[GroupQuestionFigures]] = {value: [] for value in groups}
    for question in questions:
        per_group = {
            value: group.questions.get(question.id) or QuestionResult(question.id) for value, group in groups.items()
        }
        hidden_rows = suppressed_line({value: result.answered for value, result in per_group.items()}, k, hidden_groups)
        cells = {(value, key): result.counts[key] for value, result in per_group.items() for key in question.keys}
        hidden_cells = suppressed_table(cells, hidden_rows, k) if question.keys else set()
        for value, result in per_group.items():
            if value in hidden_rows:
                figures[value].append(
                    GroupQuestionFigures(id=question.id, suppressed=True, answered=None, counts=None, mean=None)
                )
                continue
            counts: dict[str, int | None] | None = None
            if question.keys:
                counts = {key: None if (value, key) in hidden_cells else result.counts[key] for key in question.keys}
            mean = None
            any_hidden = counts is not None and any(count is None for count in counts.values())
            if question.type in ("number", "scale") and not any_hidden:
                mean = result.mean()
            figures[value].append(
                GroupQuestionFigures(
                    id=question.id, suppressed=False, answered=result.answered, counts=counts, mean=mean
                )
            )
    ordered = sorted(groups, key=lambda value: (value is None, value or ""))
    return [
        Group(
            value=value,
            suppressed=value in hidden_groups,
            respondents=None if value in hidden_groups else groups[value].respondents,
            questions=[] if value in hidden_groups else figures[value],
        )
        for value in ordered
    ]
