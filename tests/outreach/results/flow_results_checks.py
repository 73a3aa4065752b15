"""Checks of a Flow Results package that import nothing from the project: the descriptor and the rows
against JSON schemas written from the specification's text (flow_results_spec/, which also holds the
specification's worked example), the package with frictionless (Data Package and Table Schema
validity, every row against its field types), and each response against its question's type."""

from __future__ import annotations

import io
import json
import math
import zipfile
from pathlib import Path
from typing import Any

from frictionless import Package, Report
from jsonschema import Draft202012Validator

SPEC = Path(__file__).parent / "flow_results_spec"
EXAMPLE = SPEC / "example" / "flow-results-example-1.json"
EXAMPLE_DATA = SPEC / "example" / "data" / "flow-results-example-1-data.json"
DESCRIPTOR_SCHEMA = Draft202012Validator(json.loads((SPEC / "descriptor.schema.json").read_text(encoding="utf-8")))
RESPONSES_SCHEMA = Draft202012Validator(json.loads((SPEC / "responses.schema.json").read_text(encoding="utf-8")))
Draft202012Validator.check_schema(DESCRIPTOR_SCHEMA.schema)
Draft202012Validator.check_schema(RESPONSES_SCHEMA.schema)


def descriptor_errors(descriptor: Any) -> list[tuple[tuple[Any, ...], str]]:
    """Where (the path in the descriptor) and why it breaks the descriptor schema; [] when valid."""
    return sorted((tuple(error.absolute_path), error.message) for error in DESCRIPTOR_SCHEMA.iter_errors(descriptor))


def rows_errors(rows: Any) -> list[tuple[tuple[Any, ...], str]]:
    return sorted((tuple(error.absolute_path), error.message) for error in RESPONSES_SCHEMA.iter_errors(rows))


def frictionless_report(directory: Path) -> Report:
    """frictionless's validation of the package in `directory`: the descriptor as a Data Package,
    each resource's rows against its Table Schema. frictionless reads `profile` as the location of a
    JSON Schema to fetch (Data Package 1.0: a registry id or a URL) and knows no Flow Results one, so
    it is given the descriptor as a plain Data Package; the Flow Results rules are the schema's above.
    frictionless cannot read a JSON table without rows ("cannot extract JSON tabular data" from `[]`):
    a package of no answers has its descriptor validated only."""
    descriptor = json.loads((directory / "datapackage.json").read_text(encoding="utf-8"))
    assert descriptor["profile"] == "flow-results-package"
    plain = {**descriptor, "profile": "data-package"}
    if json.loads((directory / descriptor["resources"][0]["path"]).read_text(encoding="utf-8")) == []:
        report: Report = Package.validate_descriptor(plain, basepath=str(directory))
    else:
        report = Package(plain, basepath=str(directory)).validate()
    return report


def report_errors(report: Report) -> list[str]:
    found = [f"{error.type}: {error.note}" for error in report.errors]
    for task in report.tasks:
        found += [f"{task.name} row {getattr(error, 'row_number', '-')}: {error.message}" for error in task.errors]
    return found


def response_errors(descriptor: dict[str, Any], rows: list[list[Any]]) -> list[str]:
    """Each row's response against its question (specification.md, 'Question Types', 'Response
    format'), and the row ids unique within the package ('compared for uniqueness as strings')."""
    questions = descriptor["resources"][0]["schema"]["questions"]
    found: list[str] = []
    seen: set[str] = set()
    for number, (_, row_id, _, _, question_id, response, _) in enumerate(rows, start=1):
        if str(row_id) in seen:
            found.append(f"row {number}: row id {row_id} again")
        seen.add(str(row_id))
        question = questions.get(question_id)
        if question is None:
            found.append(f"row {number}: no question {question_id}")
            continue
        kind, options = question["type"], question["type_options"]
        if kind == "select_one" and (not isinstance(response, str) or response not in options["choices"]):
            found.append(f"row {number}: {response!r} is not one of {options['choices']}")
        elif kind == "select_many" and (
            not isinstance(response, list)
            or not all(isinstance(item, str) and item in options["choices"] for item in response)
        ):
            found.append(f"row {number}: {response!r} is not a list of {options['choices']}")
        elif kind == "numeric":
            low, high = options.get("range", (-math.inf, math.inf))
            if isinstance(response, bool) or not isinstance(response, int | float) or not low <= response <= high:
                found.append(f"row {number}: {response!r} is not a number in {low}..{high}")
        elif kind == "text" and not isinstance(response, str):
            found.append(f"row {number}: {response!r} is not a text")
    return found


def unzip(data: bytes, directory: Path) -> list[str]:
    """Unpack a zipped package into `directory` (checking every member's CRC); its member names."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        archive.extractall(directory)
        return archive.namelist()


def checked_package(directory: Path) -> tuple[dict[str, Any], list[list[Any]]]:
    """The package in `directory` (descriptor, rows), after every check above found nothing."""
    descriptor = json.loads((directory / "datapackage.json").read_text(encoding="utf-8"))
    rows = json.loads((directory / descriptor["resources"][0]["path"]).read_text(encoding="utf-8"))
    assert descriptor_errors(descriptor) == []
    assert rows_errors(rows) == []
    report = frictionless_report(directory)
    assert report.valid, report_errors(report)
    assert not rows or report.tasks[0].stats["rows"] == len(rows)
    assert response_errors(descriptor, rows) == []
    return descriptor, rows
