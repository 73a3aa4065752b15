"""What is wrong with margins (a margins file's rows, a name or dimension asked for): each problem as a
code, an English template and its parameters (flows.explanation), so the CLI prints it as always and
the officials' pages say it in Polish; MarginsError gathers them with where each is."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from flows.explanation import Explanation

# Every problem's English template, by code (the officials' catalog holds their Polish).
PROBLEMS: Mapping[str, str] = {
    "margins_empty": "the file is empty; it needs the header %(header)s",
    "margins_header": "the header must be %(header)s (found %(found)s)",
    "margins_fields": "expected 3 fields (dimension,value,population), found %(found)s",
    "margins_no_dimension": "the dimension is empty",
    "margins_no_value": "the value of %(dimension)s is empty",
    "margins_long_dimension": "a dimension is longer than %(limit)s characters (as an attribute's name)",
    "margins_long_value": "a value of %(dimension)s is longer than %(limit)s characters",
    "margins_long_cell": "a joint cell is longer than %(limit)s characters in all",
    "margins_not_a_number": "the population of %(value)s is not a number: %(population)s",
    "margins_not_above_zero": "the population of %(value)s must be above zero, not %(population)s",
    "margins_duplicate": "duplicate value %(value)s of %(dimension)s (line %(line)s)",
    "margins_no_rows": "no margins: the file has a header but no rows",
    "margins_age_band": "%(value)s is not one of the age bands %(bands)s (OUTREACH_AGE_BANDS)",
    "margins_joint_twice": "a joint dimension names each dimension once: %(dimension)s",
    "margins_joint_values": "the joint value %(value)s needs one value per dimension of %(dimension)s",
    "margins_joint_duplicate": "duplicate joint cell %(value)s (line %(line)s)",
    "margins_joint_unknown": "%(value)s is not a value of %(dimension)s in this file",
    "margins_joint_miss": "the joint cells %(cells)s miss %(missing)s",
    "margins_joint_miss_more": "the joint cells %(cells)s miss %(missing)s and %(more)s more",
    "margins_do_not_sum": (
        "the margins do not sum: %(value)s is %(share)s of %(dimension)s here but %(joint_share)s"
        " in the joint cells %(cells)s"
    ),
    "margins_no_dimensions": "no dimensions asked for",
    "margins_dimension_twice": "a dimension is named twice: %(dimensions)s",
    "margins_unknown_dimension": "unknown dimension %(dimension)s; margins %(name)s have: %(known)s",
    "margins_unknown_dimension_none": "unknown dimension %(dimension)s; margins %(name)s have: none",
    "margins_unknown_name": "no margins named %(name)s; there are: %(known)s",
    "margins_unknown_name_none": (
        "no margins named %(name)s; there are: none; import some with `outreach margins import`"
    ),
}
# Where a problem is, before it (as the CLI prints it): the margins' name or file, and its line.
AT_SOURCE, AT_LINE = "%(source)s: %(problem)s", "%(source)s:%(line)s: %(problem)s"


def said(code: str, params: Mapping[str, object] | None = None) -> Explanation:
    """The problem `code` with its parameters (values the file wrote are given as their repr, quoted)."""
    return Explanation(code, PROBLEMS[code], dict(params or {}))


@dataclass(frozen=True)
class MarginsProblem:
    source: str
    line: int | None  # 1-based; None when the problem is not at a line (an unknown name)
    # The problem as a code, template and parameters (the officials' pages translate it); its text is
    # the message the CLI prints.
    explanation: Explanation

    @property
    def message(self) -> str:
        return self.explanation.text

    @property
    def located(self) -> Explanation:
        """The problem after its source and line, as __str__ says it."""
        if self.line is not None:
            return Explanation(
                "margins_at_line", AT_LINE, {"source": self.source, "line": self.line, "problem": self.explanation}
            )
        if self.source:
            return Explanation("margins_at", AT_SOURCE, {"source": self.source, "problem": self.explanation})
        return self.explanation

    def __str__(self) -> str:
        return self.located.text


class MarginsError(ValueError):
    """Margins that cannot be used, with every problem found and where (like flows.loader's)."""

    def __init__(self, problems: Sequence[MarginsProblem]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = list(problems)

    @classmethod
    def single(cls, explanation: Explanation, source: str = "", line: int | None = None) -> MarginsError:
        return cls([MarginsProblem(source, line, explanation)])

    @property
    def explanation(self) -> Explanation | None:
        """The one problem, where it is, in words a page translates (None for several: English)."""
        return self.problems[0].located if len(self.problems) == 1 else None
