from __future__ import annotations

from outreach.survey.small_cells import suppressed_line, suppressed_table


def test_a_line_withholds_small_values_and_enough_others() -> None:
    assert suppressed_line({"a": 3, "b": 10, "c": 20}, 5) == {"a", "b"}
    assert suppressed_line({"a": 3, "b": 4, "c": 20}, 5) == {"a", "b"}
    assert suppressed_line({"a": 0, "b": 10}, 5) == set()
    assert suppressed_line({"a": 5, "b": 6}, 5) == set()
    assert suppressed_line({"a": 1}, 5) == {"a"}
    assert suppressed_line({"a": 9, "b": 9}, 5, already={"a"}) == {"a", "b"}  # one alone is the total minus b
    assert suppressed_line({"a": 0, "b": 0, "c": 7}, 5, already={"a"}) == {"a", "b"}  # withheld zeros: fine


def test_a_table_is_completed_along_rows_and_columns() -> None:
    cells: dict[tuple[str | None, str], int] = {
        ("x", "yes"): 2,
        ("x", "no"): 20,
        ("y", "yes"): 7,
        ("y", "no"): 30,
    }
    hidden = suppressed_table(cells, set(), 5)
    # (x, yes) is small; its row needs (x, no), its column (y, yes); column "no" then needs (y, no).
    assert hidden == set(cells)
    assert suppressed_table({("x", "yes"): 6, ("x", "no"): 0}, set(), 5) == set()
    # A hidden row alone in its column is the column's total minus the rest: its neighbour goes too.
    assert suppressed_table({("x", "a"): 9, ("y", "a"): 8}, {"x"}, 5) == {("x", "a"), ("y", "a")}
