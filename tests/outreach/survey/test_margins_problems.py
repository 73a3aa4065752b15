"""Margins' problems as Explanations (outreach.survey.margins_problems): every problem a margins file
or a question to the margins can raise carries its code and template, gives back the text the CLI
prints, and a single problem says where it is in words the officials' pages translate."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from outreach.survey.margins import MarginsError, parse_margins
from outreach.survey.margins_problems import AT_LINE, AT_SOURCE, PROBLEMS

HEADER = "dimension,value,population\n"
# One line per kind of row problem, and joint cells that miss, name unknown values and do not sum.
BROKEN = HEADER + (
    "district,Oliwa\n"
    ",Oliwa,5\n"
    "district,,5\n"
    "district,Oliwa,many\n"
    "district,Osowa,0\n"
    "district,Oliwa,10\n"
    "district,OLIWA,10\n"
    "district×district,Oliwa×Oliwa,5\n"
    "district×sex,Oliwa,5\n"
    "sex,K,6\nsex,M,4\n"
    "district×sex,Oliwa×K,1\n"
    "district×sex,Oliwa×K,1\n"
    "district×age,Oliwa×30-44,1\n"
    "age×sex,30-44×X,1\n"
    f"{'d' * 70},Oliwa,1\n"
)


def problems_of(text: str, **options: list[str]) -> list[MarginsError]:
    with pytest.raises(MarginsError) as raised:
        parse_margins(text, "city", "city.csv", **options)
    return [MarginsError([problem]) for problem in raised.value.problems]


def test_every_problem_of_a_file_is_explained_at_its_line_as_the_cli_says_it() -> None:
    errors = problems_of(BROKEN)
    assert len(errors) >= 10
    for error in errors:
        (problem,) = error.problems
        assert problem.explanation.template == PROBLEMS[problem.explanation.code]
        assert error.explanation is not None and error.explanation.template == AT_LINE
        assert error.explanation.text == str(error) == f"city.csv:{problem.line}: {problem.message}"


def test_a_problem_without_a_line_is_said_after_its_source_and_several_are_not_explained_as_one() -> None:
    (empty,) = problems_of(HEADER)
    assert empty.explanation is not None and empty.explanation.template == AT_SOURCE
    assert str(empty) == "city.csv: no margins: the file has a header but no rows"
    with pytest.raises(MarginsError) as several:
        parse_margins(BROKEN, "city", "city.csv")
    assert several.value.explanation is None


def test_the_margins_asked_for_an_unknown_dimension_say_so_in_words_a_page_translates() -> None:
    margins, _ = parse_margins(HEADER + "district,Oliwa,10\n", "city", "city.csv")
    with pytest.raises(MarginsError) as raised:
        margins.joint_shares(["flavour"])
    explanation = raised.value.explanation
    assert explanation is not None and explanation.params["problem"].code == "margins_unknown_dimension"  # type: ignore[attr-defined]
    assert explanation.text == "city: unknown dimension 'flavour'; margins 'city' have: district"


def test_every_template_in_the_table_is_one_the_code_raises() -> None:
    survey = Path(__file__).parents[3] / "outreach" / "survey"
    source = "".join(path.read_text(encoding="utf-8") for path in survey.glob("margins*.py"))
    raised = set(re.findall(r'"(margins_[a-z_]+)"', source)) - {"margins_at", "margins_at_line"}
    assert raised == set(PROBLEMS)
