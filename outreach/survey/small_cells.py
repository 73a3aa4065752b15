"""Small-cell suppression (pure): which counts of a breakdown to withhold so that no group of fewer
than k respondents can be seen or worked back.

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

from collections.abc import Hashable, Mapping
from typing import TypeVar

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
