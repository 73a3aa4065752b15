"""Answer matching as a table (matching_table.yaml): question, language, reply -> value or no match."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from flows.folding import fold
from flows.matching import Answer, match_answer, match_reply
from flows.model import AnswerValue, Question

TABLE_PATH = Path(__file__).parent / "matching_table.yaml"


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, bool) or node is None:
        return node
    for kind in (str, int, float):  # ruamel's scalar subclasses -> the plain type
        if isinstance(node, kind):
            return kind(node)
    return node


def _question(spec: dict[str, Any]) -> Question:
    filled = {"id": "q", "text": {"pl": "?", "en": "?", "uk": "?"}, **spec}
    return Question.model_validate(filled)


def _load_table() -> tuple[dict[str, Question], list[tuple[str, Question, str, str, AnswerValue | None]]]:
    yaml = YAML(typ="rt")
    yaml.version = (1, 2)  # yes/no stay strings
    data = _plain(yaml.load(TABLE_PATH.read_text(encoding="utf-8")))
    named = {name: _question(spec) for name, spec in data["questions"].items()}
    rows = []
    for ref, language, reply, expected in data["rows"]:
        name = ref if isinstance(ref, str) else f"inline-{ref['type']}"
        question = named[ref] if isinstance(ref, str) else _question(ref)
        rows.append((name, question, language, reply, expected))
    return named, rows


QUESTIONS, ROWS = _load_table()


@pytest.mark.parametrize(
    ("name", "question", "language", "reply", "expected"),
    ROWS,
    ids=[f"{row[0]}-{row[2]}-{row[3]!r}" for row in ROWS],
)
def test_table(name: str, question: Question, language: str, reply: str, expected: AnswerValue | None) -> None:
    answer = match_reply(question, language, reply)
    assert (answer.value if answer else None) == expected
    if answer is not None:  # int stays int: a scale of 4 must not be stored as 4.0
        assert type(answer.value) is type(expected)


def test_the_table_covers_every_type_with_matches_and_misses() -> None:
    assert len(ROWS) >= 100
    for kind in ("yesno", "choice", "multi", "scale", "number", "text"):
        rows = [row for row in ROWS if row[1].type == kind]
        assert any(row[4] is None for row in rows), f"{kind}: no row that must not match"
        assert sum(row[4] is not None for row in rows) >= 4, f"{kind}: too few matching rows"


def test_match_answer_still_gives_option_keys() -> None:
    assert match_answer(QUESTIONS["yesno"], "pl", "Tak") == "yes"
    assert match_answer(QUESTIONS["visits"], "pl", "b)") == "monthly"
    assert match_answer(QUESTIONS["visits"], "pl", "nie wiem") is None


def test_match_answer_refuses_other_types() -> None:
    with pytest.raises(TypeError, match="use match_reply"):
        match_answer(QUESTIONS["rating"], "pl", "4")


def test_answer_values_are_json_ready() -> None:
    assert match_reply(QUESTIONS["priorities"], "pl", "3,1") == Answer(["lighting", "playground"])
    assert match_reply(QUESTIONS["rating"], "pl", "4/5") == Answer(4)
    assert match_reply(QUESTIONS["times"], "pl", "1,5") == Answer(1.5)


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Brętowo", "bretowo"),
        ("ŁÓDŹ", "lodz"),
        ("Їжак", "їжак"),  # Cyrillic letters keep their marks; only the case folds
        ("ЙОГО", "його"),
    ],
)
def test_folding(text: str, folded: str) -> None:
    assert fold(text) == folded
