"""What the editor's form shows for its fields, where each loader problem lands, and the add and
remove buttons' work on the fields (outreach.web.admin.editor_layout)."""

from __future__ import annotations

import pytest

from flows.loader import CampaignError
from outreach.web.admin.editor_layout import editor_layout, field_id, placed_errors, with_option, without

FIELDS = {
    "languages": "pl, en",
    "questions[0].id": "visits",
    "questions[0].type": "yesno",
    "questions[0].min": "3",  # not a yesno's key, but typed: shown, so it is neither lost nor hidden
    "questions[1].id": "place",
    "questions[1].type": "choice",
    "questions[1].options[0].key": "pond",
    "questions[1].options[1].key": "gate",
    "questions[2].id": "why",
    "questions[2].type": "text",
    "intro.uk": "Добрий день",  # a language no longer listed keeps its texts visible
}


def test_each_question_shows_the_fields_of_its_type_and_any_holding_a_value() -> None:
    layout = editor_layout(FIELDS)
    assert layout.languages == ["pl", "en", "uk"]
    assert [(q.type, q.shown, q.options) for q in layout.questions] == [
        ("yesno", ("min",), []),
        ("choice", ("options",), [0, 1]),
        ("text", ("max_length",), []),
    ]


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("questions[1].options[1].key", "questions[1].options[1].key"),  # its own field
        ("questions[0].next.no", "questions[0].next"),  # a branch: the field of the whole `next`
        ("questions[2].text", "questions[2].text.pl"),  # a text: its first language's field
        ("questions[1]", "questions[1].id"),  # a question: its first field
        ("audience.sample", "audience.sample.size"),
        ("whatsapp.content_sid", "more"),  # written as YAML under "More"
        ("unheard_of", None),  # no field of its own, nor above it: among the form's own problems
    ],
)
def test_a_problem_lands_at_the_field_of_its_path_or_the_nearest_above(path: str, field: str | None) -> None:
    names = editor_layout(FIELDS).names()
    at_fields, general = placed_errors([CampaignError("form", 1, 1, f"{path}: wrong", path)], names)
    if field is None:
        assert (at_fields, [p.text for p in general]) == ({}, [f"{path}: wrong"])  # and the page is made
    else:
        texts = {name: [p.text for p in problems] for name, problems in at_fields.items()}
        assert (texts, general) == ({field: ["wrong" if field == path else f"{path}: wrong"]}, [])


def test_removing_a_question_moves_those_after_it_up() -> None:
    fewer = without(FIELDS, "questions", 0)
    assert fewer["questions[0].id"] == "place" and fewer["questions[0].options[1].key"] == "gate"
    assert fewer["questions[1].id"] == "why" and "questions[2].id" not in fewer


def test_adding_and_removing_options() -> None:
    more = with_option(FIELDS, 1)
    assert more["questions[1].options[2].key"] == ""
    fewer = without(more, "questions[1].options", 0)
    assert [fewer.get(f"questions[1].options[{index}].key") for index in range(3)] == ["gate", "", None]


def test_field_ids_are_html_ids() -> None:
    assert field_id("questions[10].options[2].text.pl") == "f-questions-10-options-2-text-pl"
