"""The Flow Results descriptor a campaign gets, and the checks the packages are held to: the JSON
schemas written from the specification's text accept its worked example (the positive control) and
refuse deliberately broken packages; frictionless reads every row and refuses a broken one.
(The packages themselves, from real answers: tests/outreach/web/api/test_flow_results.py and
tests/outreach/cli/test_flow_results.py.)"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from flows.languages import LANGUAGES
from flows.loader import load_campaign
from outreach.results.flow_results import ISO_639_3, descriptor_text, flow_results_descriptor, package_id
from tests.outreach.results.flow_results_checks import (
    EXAMPLE,
    EXAMPLE_DATA,
    checked_package,
    descriptor_errors,
    frictionless_report,
    report_errors,
    response_errors,
    rows_errors,
)

CREATED = datetime(2027, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
EVERY_TYPE = """
name: Tramwaj na Morenę
languages: [pl, en]
channels: [sms]
questions:
  - {id: use, type: yesno, text: {pl: "Jeździsz tramwajem?", en: "Do you ride the tram?"}}
  - id: stop
    type: choice
    text: {pl: "Który przystanek?", en: "Which stop?"}
    options:
      - {key: jasien, text: {pl: Jasień, en: Jasień}}
      - {key: morena, text: {pl: Morena, en: Morena}}
  - id: when
    type: multi
    text: {pl: "Kiedy?", en: "When?"}
    options:
      - {key: morning, text: {pl: rano, en: morning}}
      - {key: evening, text: {pl: wieczorem, en: evening}}
  - {id: rating, type: scale, min: 1, max: 5, text: {pl: "Ocena 1-5", en: "Rate 1-5"}}
  - {id: minutes, type: number, integer: true, text: {pl: "Ile minut?", en: "How many minutes?"}}
  - {id: idea, type: text, text: {pl: "Co zmienić?", en: "What should change?"}}
"""


def descriptor() -> dict[str, Any]:
    return flow_results_descriptor(load_campaign(EVERY_TYPE), slug="Tramwaj_Morena 2027", created_at=CREATED)


def example() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    return loaded


def test_the_specifications_worked_example_passes_but_for_its_id() -> None:
    """The positive control: the specification's own example (README.md, 'Example'). Its id is one
    hex digit short of a UUID ('b03ec84-…': 7 in the first group, not 8), which the text requires; the
    schema says exactly that and nothing else, and the example with a whole UUID passes. Its data
    passes the row schema."""
    errors = descriptor_errors(example())
    assert [path for path, _ in errors] == [("id",)]
    mended = {**example(), "id": "0" + example()["id"]}
    assert uuid.UUID(mended["id"]).version == 4
    assert descriptor_errors(mended) == []
    assert rows_errors(json.loads(EXAMPLE_DATA.read_text(encoding="utf-8"))) == []


def test_a_campaigns_descriptor_has_each_question_with_its_type_and_choices() -> None:
    made = descriptor()
    assert descriptor_errors(made) == []
    assert made["profile"] == "flow-results-package" and made["flow_results_specification_version"] == "1.1.0"
    assert made["name"] == "tramwaj_morena-2027" and made["title"] == "Tramwaj na Morenę"
    assert made["created"] == made["modified"] == "2027-03-01T09:30:15+00:00"
    (resource,) = made["resources"]
    assert (resource["path"], resource["access_method"], resource["schema"]["language"]) == (
        "responses.json",
        "file",
        "pol",
    )
    assert resource["schema"]["questions"] == {
        "use": {"type": "select_one", "label": "Jeździsz tramwajem?", "type_options": {"choices": ["yes", "no"]}},
        "stop": {"type": "select_one", "label": "Który przystanek?", "type_options": {"choices": ["jasien", "morena"]}},
        "when": {"type": "select_many", "label": "Kiedy?", "type_options": {"choices": ["morning", "evening"]}},
        "rating": {"type": "numeric", "label": "Ocena 1-5", "type_options": {"range": [1, 5]}},
        "minutes": {"type": "numeric", "label": "Ile minut?", "type_options": {}},
        "idea": {"type": "text", "label": "Co zmienić?", "type_options": {}, "is_personal_information": True},
    }
    json.loads(descriptor_text(made))  # written as JSON


def test_the_package_keeps_its_id_and_it_is_a_version_4_uuid() -> None:
    first = package_id("park", CREATED)
    assert uuid.UUID(first).version == 4 and first == package_id("park", CREATED)
    assert first != package_id("park-2", CREATED) and first != package_id("park", CREATED.replace(year=2028))


def test_every_language_the_service_speaks_has_an_iso_639_3_code() -> None:
    assert set(LANGUAGES) <= set(ISO_639_3) and all(len(code) == 3 for code in ISO_639_3.values())


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        *parents, last = path
        target: Any = document
        for key in parents:
            target = target[key]
        target[last] = value

    change.path = path  # type: ignore[attr-defined]
    return change


def _drop(path: tuple[Any, ...]) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        *parents, last = path
        target: Any = document
        for key in parents:
            target = target[key]
        del target[last]

    change.path = path  # type: ignore[attr-defined]
    return change


SCHEMA = ("resources", 0, "schema")
BROKEN_DESCRIPTORS: list[tuple[str, Callable[[dict[str, Any]], None], tuple[Any, ...]]] = [
    ("no profile", _drop(("profile",)), ()),
    ("a plain data package", _set(("profile",), "data-package"), ("profile",)),
    ("no specification version", _drop(("flow_results_specification_version",)), ()),
    (
        "a version that is no semver",
        _set(("flow_results_specification_version",), "1.1"),
        ("flow_results_specification_version",),
    ),
    ("no created", _drop(("created",)), ()),
    ("a modified without offset", _set(("modified",), "2027-03-01T09:30:15"), ("modified",)),
    ("no id", _drop(("id",)), ()),
    ("an id of UUID version 1", _set(("id",), "6fa459ea-ee8a-11d9-b58d-000000000000"), ("id",)),
    ("an upper-case name", _set(("name",), "Tram"), ("name",)),
    ("two resources", lambda d: d["resources"].append(copy.deepcopy(d["resources"][0])), ("resources",)),
    ("inline data", _set(("resources", 0, "data"), []), ("resources", 0)),
    ("neither path nor api_data_url", _drop(("resources", 0, "path")), ("resources", 0)),
    ("api access without its url", _set(("resources", 0, "access_method"), "api"), ("resources", 0)),
    ("an unknown access method", _set(("resources", 0, "access_method"), "ftp"), ("resources", 0, "access_method")),
    ("a schema by URL", _set(("resources", 0, "schema"), "https://example.org/schema.json"), SCHEMA),
    ("no questions", _drop((*SCHEMA, "questions")), SCHEMA),
    ("a language in two letters", _set((*SCHEMA, "language"), "pl"), (*SCHEMA, "language")),
    ("six fields", lambda d: d["resources"][0]["schema"]["fields"].pop(), (*SCHEMA, "fields")),
    ("a field renamed", _set((*SCHEMA, "fields", 1, "name"), "id"), (*SCHEMA, "fields", 1, "name")),
    ("metadata as text", _set((*SCHEMA, "fields", 6, "type"), "string"), (*SCHEMA, "fields", 6, "type")),
    ("a question without type", _drop((*SCHEMA, "questions", "use", "type")), (*SCHEMA, "questions", "use")),
    ("an unknown type", _set((*SCHEMA, "questions", "use", "type"), "yesno"), (*SCHEMA, "questions", "use", "type")),
    ("no label", _drop((*SCHEMA, "questions", "idea", "label")), (*SCHEMA, "questions", "idea")),
    ("no type options", _drop((*SCHEMA, "questions", "idea", "type_options")), (*SCHEMA, "questions", "idea")),
    (
        "a choice without choices",
        _set((*SCHEMA, "questions", "stop", "type_options"), {}),
        (*SCHEMA, "questions", "stop", "type_options"),
    ),
    (
        "a range of one number",
        _set((*SCHEMA, "questions", "rating", "type_options", "range"), [1]),
        (*SCHEMA, "questions", "rating", "type_options", "range"),
    ),
    (
        "a group from a text question",
        _set((*SCHEMA, "questions", "idea", "set_group_membership"), "tram users"),
        (*SCHEMA, "questions", "idea", "type"),
    ),
]


@pytest.mark.parametrize(
    ("broken", "where"),
    [(change, where) for _, change, where in BROKEN_DESCRIPTORS],
    ids=[n for n, _, _ in BROKEN_DESCRIPTORS],
)
def test_a_broken_descriptor_is_refused_where_it_breaks(
    broken: Callable[[dict[str, Any]], None], where: tuple[Any, ...]
) -> None:
    """Each break, made to a campaign's descriptor and (unless it is of a question only the campaign
    has) to the specification's example, is found at its place."""
    documents = [descriptor()]
    if "questions" not in where and "questions" not in getattr(broken, "path", ()):
        documents.append({**example(), "id": "0" + example()["id"]})
    for document in documents:
        broken(document)
        assert where in [path for path, _ in descriptor_errors(document)], descriptor_errors(document)


ROW: list[Any] = ["2027-03-01T09:00:00+00:00", "p1-use", "p1", "p1", "use", "yes", {"channel": "sms"}]
BROKEN_ROWS: list[tuple[str, list[Any]]] = [
    ("six columns", ROW[:6]),
    ("eight columns", [*ROW, None]),
    ("a time in Z", ["2027-03-01T09:00:00Z", *ROW[1:]]),
    ("a time without offset", ["2027-03-01T09:00:00", *ROW[1:]]),
    ("a date only", ["2027-03-01", *ROW[1:]]),
    ("a row id as a float", [ROW[0], 1.5, *ROW[2:]]),
    ("a contact id missing", [*ROW[:2], None, *ROW[3:]]),
    ("a number as question id", [*ROW[:4], 7, *ROW[5:]]),
    ("metadata as text", [*ROW[:6], "sms"]),
]


def test_the_row_schema_takes_a_good_row() -> None:
    assert rows_errors([ROW, [*ROW[:6], None]]) == []


@pytest.mark.parametrize("row", [row for _, row in BROKEN_ROWS], ids=[name for name, _ in BROKEN_ROWS])
def test_a_broken_row_is_refused(row: list[Any]) -> None:
    assert [path for path, _ in rows_errors([ROW, row])] != []
    assert all(path[0] == 1 for path, _ in rows_errors([ROW, row]))


def test_responses_are_checked_against_their_questions() -> None:
    made = descriptor()
    good: list[list[Any]] = [
        [*ROW[:4], "use", "yes", {}],
        ["2027-03-01T09:00:00+00:00", "p1-when", "p1", "p1", "when", ["morning", "evening"], {}],
        ["2027-03-01T09:00:00+00:00", "p1-rating", "p1", "p1", "rating", 5, {}],
        ["2027-03-01T09:00:00+00:00", "p1-idea", "p1", "p1", "idea", "więcej kursów", {}],
    ]
    assert response_errors(made, good) == []
    broken: list[list[Any]] = [
        [*ROW[:4], "use", "maybe", {}],
        ["2027-03-01T09:00:00+00:00", "p1-when", "p1", "p1", "when", "morning", {}],
        ["2027-03-01T09:00:00+00:00", "p1-rating", "p1", "p1", "rating", 6, {}],
        ["2027-03-01T09:00:00+00:00", "p1-rating", "p1", "p1", "rating", True, {}],
        ["2027-03-01T09:00:00+00:00", "p1-idea", "p1", "p1", "idea", ["a"], {}],
        ["2027-03-01T09:00:00+00:00", "p1-x", "p1", "p1", "x", "a", {}],
    ]
    found = response_errors(made, broken)
    assert [message.split(":")[0] for message in found] == [
        "row 1",  # no choice
        "row 2",  # a key where a list belongs
        "row 3",  # out of range
        "row 4",  # the row id again
        "row 4",  # a boolean is no number
        "row 5",  # a list is no text
        "row 6",  # no such question
    ], found


def _package(directory: Path, rows: list[list[Any]]) -> Path:
    directory.mkdir()
    (directory / "datapackage.json").write_text(descriptor_text(descriptor()), encoding="utf-8")
    (directory / "responses.json").write_text(json.dumps(rows), encoding="utf-8")
    return directory


def test_frictionless_reads_every_row_and_refuses_a_broken_one(tmp_path: Path) -> None:
    """The negative control of the frictionless check: a package whose rows break their Table Schema
    (a timestamp that is no date-time, metadata that is no object) fails it, row by row."""
    good: list[list[Any]] = [
        [*ROW[:4], "use", "yes", {}],
        ["2027-03-01T10:00:00+00:00", "p2-use", "p2", "p2", "use", "no", {}],
    ]
    descriptor_read, rows = checked_package(_package(tmp_path / "good", good))
    assert len(rows) == 2 and descriptor_read == descriptor()
    broken: list[list[Any]] = [
        *good,
        ["yesterday", "p3-use", "p3", "p3", "use", "no", {}],
        ["2027-03-01T10:00:00+00:00", "p4-use", "p4", "p4", "use", "no", "sms"],
    ]
    report = frictionless_report(_package(tmp_path / "broken", broken))
    assert not report.valid
    errors = report_errors(report)
    assert len(errors) == 2 and "row 3" in errors[0] and "timestamp" in errors[0], errors
    assert "row 4" in errors[1] and "response_metadata" in errors[1], errors
