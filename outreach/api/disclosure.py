"""Small-cell suppression of results broken down by a respondent attribute.

A cell is a count of respondents (a group, the answers to a question in a group, one answer key in a
group). A count from 1 to k-1 is withheld ("suppressed"), and so are enough others that no withheld
count can be worked back from what is shown. Along every line whose total is known (a group's
answers to a question; an answer key across all groups, whose total the overall results show; the
groups' respondents, whose total is the campaign's), a line that withholds anything withholds at
least two cells, which together hold 0 or at least k respondents; else the smallest shown cell of the
line (non-zero, when the sum is short) is withheld too. Rows and columns are revisited until nothing
changes (the usual complementary-suppression heuristic for two-way tables).
"""

from __future__ import annotations

import statistics
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from outreach.api.models import Group, GroupQuestionFigures
from storage.read_models import GroupResults, QuestionResult

K = TypeVar("K", bound=Hashable)


def _hide_line(values: Mapping[K, int], hidden: set[K], k: int) -> bool:
    """Withhold the small values of one line, then complete it; True when anything new was withheld."""
    changed = False
    for key, value in values.items():
        if 0 < value < k and key not in hidden:
            hidden.add(key)
            changed = True
    while True:
        withheld = [key for key in values if key in hidden]
        if not withheld:
            return changed
        total = sum(values[key] for key in withheld)
        if len(withheld) >= 2 and (total == 0 or total >= k):
            return changed
        shown = [key for key in values if key not in hidden]
        if 0 < total < k:
            shown = [key for key in shown if values[key] > 0]  # a zero would not raise the sum
        if not shown:
            return changed  # the whole line is withheld
        hidden.add(min(shown, key=lambda key: values[key]))
        changed = True


def suppressed_line(values: Mapping[K, int], k: int, already: set[K] | None = None) -> set[K]:
    """The keys of `values` (one line with a known total) to withhold."""
    hidden = set(already or ())
    _hide_line(values, hidden, k)
    return hidden


def suppressed_table(
    cells: Mapping[tuple[str | None, str], int], hidden_rows: set[str | None], k: int
) -> set[tuple[str | None, str]]:
    """Cells (row, column) to withhold: every cell of a hidden row, small cells, and complements
    along each shown row and each column until stable."""
    hidden = {cell for cell in cells if cell[0] in hidden_rows}
    rows = {row for row, _ in cells}
    columns = {column for _, column in cells}
    changed = True
    while changed:
        changed = False
        for row in rows - hidden_rows:
            line = {cell: value for cell, value in cells.items() if cell[0] == row}
            changed |= _hide_line(line, hidden, k)
        for column in columns:
            line = {cell: value for cell, value in cells.items() if cell[1] == column}
            changed |= _hide_line(line, hidden, k)
    return hidden


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
            if question.type in ("number", "scale") and result.numbers and not any_hidden:
                mean = statistics.fmean(result.numbers)
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
