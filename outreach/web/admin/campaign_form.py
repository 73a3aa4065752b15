"""The campaign editor's form fields and the campaign document, each turned into the other (issue 21).

A field is named by the loader's path of the key it holds (`questions[0].text.pl`), so a problem the
loader reports at `questions[0].type` lands on the field of that name. Values are what a browser
sends (text); a few keys are written in one field each: lists comma-separated (`pl, en`; an item
with a comma in quotes, as in CSV: `"tak, chyba", pewnie`), `next` as
`end` or `no: why_not, other: best_stop`, audience filters and fixed allocations one per line
(`district: Oliwa, Wrzeszcz`). Keys the form has no fields for (whatsapp, results_back, on_unknown)
travel as YAML in the field `more`, so nothing a campaign file can say is lost on the way.

The document is what `flows.loader` reads (after YAML), and `flows.campaign_text` writes it as the file
the CLI takes (onto the campaign's last YAML, keeping its comments); the editor validates that text
with the loader, never with rules of its own.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from flows.campaign_text import campaign_yaml
from flows.explanation import Explanation
from flows.model import CampaignDefinition, Option, Question
from flows.problems import format_path
from flows.yaml_syntax import syntax_explanation

Document = dict[str, Any]

MORE = "more"  # the YAML of the keys without fields of their own
NO_QUIET_HOURS = "schedule.quiet_hours_off"  # a checkbox: null quiet hours (the default is 21:00-08:00)
FIXED = "fixed"
# Keys by the shape of their path (indices written []): how each is written in its one field.
LISTS = frozenset(
    {"languages", "channels", "questions[].options[].synonyms", "schedule.reminders", "audience.sample.strata"}
)
NUMBERS = frozenset({"questions[].min", "questions[].max", "budget", "audience.sample.share"})
WHOLE_NUMBERS = frozenset(
    {
        "questions[].max_choices",
        "questions[].max_length",
        "reask_unclear",
        "audience.sample.size",
        "audience.sample.seed",
        "reminders.limit",
    }
)
SWITCHES = frozenset({"questions[].integer", "sms.fold_diacritics"})
LINES = frozenset({"audience.where", "audience.sample.allocation.fixed"})
BRANCHES = "questions[].next"
ALLOCATION = "audience.sample.allocation"
YAML_ONLY = ("whatsapp", "results_back", "on_unknown")  # written under "More"
FORM_KEYS = tuple(key for key in CampaignDefinition.model_fields if key not in YAML_ONLY)
# Keys in the order the model declares them, so the YAML reads as the examples do.
KEY_ORDER: dict[str, tuple[str, ...]] = {
    "": tuple(CampaignDefinition.model_fields),
    "questions[]": tuple(Question.model_fields),
    "questions[].options[]": tuple(Option.model_fields),
}
_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


@dataclass
class FormDocument:
    """The document the fields make, and the fields whose text could not be read as what they hold."""

    document: Document
    problems: dict[str, Explanation] = field(default_factory=dict)  # field name -> message


def shape(name: str) -> str:
    """`questions[2].options[0].text` -> `questions[].options[].text`."""
    return re.sub(r"\[\d+\]", "[]", name)


# --- document -> fields ------------------------------------------------------------------------------


def fields_of(document: Mapping[str, Any]) -> dict[str, str]:
    fields: dict[str, str] = {}
    more = {key: value for key, value in document.items() if key not in FORM_KEYS}
    if more:
        fields[MORE] = campaign_yaml(more)
    for key in FORM_KEYS:
        if key in document:
            _flatten(document[key], (key,), fields)
    return fields


def _flatten(node: Any, path: tuple[str | int, ...], fields: dict[str, str]) -> None:
    name = format_path(path)
    kind = shape(name)
    if kind in LISTS:
        fields[name] = _listed(node)
    elif kind in LINES:
        fields[name] = "\n".join(f"{key}: {_joined(value)}" for key, value in node.items())
    elif kind == BRANCHES:
        fields[name] = node if isinstance(node, str) else ", ".join(f"{key}: {value}" for key, value in node.items())
    elif kind == "schedule.quiet_hours" and node is None:
        fields[NO_QUIET_HOURS] = "on"
    elif kind == ALLOCATION and isinstance(node, dict):
        fields[name] = FIXED
        _flatten(node[FIXED], (*path, FIXED), fields)
    elif kind in SWITCHES:
        if node:
            fields[name] = "on"
    elif isinstance(node, dict):
        for key, value in node.items():
            _flatten(value, (*path, str(key)), fields)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _flatten(value, (*path, index), fields)
    elif node is not None:
        fields[name] = str(node)


def _joined(value: Any) -> str:
    return _listed(value) if isinstance(value, list) else str(value)


def _listed(values: list[Any]) -> str:
    """Items separated by commas; one holding a comma or a quote is quoted ("a, b"), as in CSV."""
    return ", ".join(
        f'"{text.replace(chr(34), chr(34) * 2)}"' if "," in text or '"' in text else text for text in map(str, values)
    )


def _items(text: str) -> list[str]:
    """The items of a comma-separated field (quotes as _listed writes them)."""
    return [item.strip() for item in next(csv.reader([text], skipinitialspace=True), []) if item.strip()]


# --- fields -> document ------------------------------------------------------------------------------


def document_of(fields: Iterable[tuple[str, str]], ignored: Iterable[str] = ()) -> FormDocument:
    """The campaign document of the submitted fields (`ignored`: the form's other fields, e.g. CSRF)."""
    skip = {*ignored, MORE, NO_QUIET_HOURS}
    given = dict(fields)
    tree: dict[Any, Any] = {}
    problems: dict[str, Explanation] = {}
    for name, raw in given.items():
        if name in skip:
            continue
        value = _value(name, raw.replace("\r\n", "\n"), problems)
        if value is not None:
            _insert(tree, _steps(name), value)
    document: Document = _settled(tree, "")
    if NO_QUIET_HOURS in given:
        document.setdefault("schedule", {})["quiet_hours"] = None
    _drop_idle_selects(document)
    if given.get(MORE, "").strip():
        _add_more(document, given[MORE], problems)
    order = KEY_ORDER[""]
    document = dict(sorted(document.items(), key=lambda item: _rank(order, item[0])))
    return FormDocument(document, problems)


def _steps(name: str) -> list[str | int]:
    return [int(index) if index else key for key, index in _STEP.findall(name)]


def _value(name: str, raw: str, problems: dict[str, Explanation]) -> Any:
    """The value a field holds, or None when it is empty (the key is left out)."""
    kind = shape(name)
    text = raw.strip()
    if not text:
        return None
    if kind in LISTS:
        return _items(text)
    if kind in NUMBERS:
        return _number(text)
    if kind in WHOLE_NUMBERS:
        return int(text) if re.fullmatch(r"[+-]?\d+", text) else text  # the loader says what is wrong
    if kind in SWITCHES:
        return True
    if kind in LINES:
        return _lines(name, text, problems, whole=kind.endswith(FIXED))
    if kind == BRANCHES:
        return _branches(name, text, problems) if ":" in text else text
    if kind == ALLOCATION and text == FIXED:
        return None  # the mapping comes with its own field, allocation.fixed
    return raw if kind.split(".")[-1] not in ("id", "type", "key") else text


def _number(text: str) -> int | float | str:
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    try:
        return float(text.replace(",", "."))  # a Polish keyboard writes 2,5
    except ValueError:
        return text


def _lines(name: str, text: str, problems: dict[str, Explanation], *, whole: bool) -> dict[str, Any] | None:
    found: dict[str, Any] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        key, colon, value = line.partition(":")
        if not colon or not key.strip():
            problems[name] = Explanation(
                "form_line", "'%(line)s': write each line as name: value", {"line": line.strip()}
            )
            return None
        if whole:
            found[key.strip()] = int(value) if re.fullmatch(r"\s*\d+\s*", value) else value.strip()
        else:
            found[key.strip()] = _items(value)
    return found


def _branches(name: str, text: str, problems: dict[str, Explanation]) -> dict[str, str] | None:
    found: dict[str, str] = {}
    for part in text.split(","):
        key, colon, target = part.partition(":")
        if not colon or not key.strip() or not target.strip():
            problems[name] = Explanation(
                "form_branch", "'%(part)s': write each branch as answer: question id", {"part": part.strip()}
            )
            return None
        found[key.strip()] = target.strip()
    return found


def _insert(tree: dict[Any, Any], steps: list[str | int], value: Any) -> None:
    node = tree
    for step in steps[:-1]:
        node = node.setdefault(step, {})
    node[steps[-1]] = value


def _settled(node: Any, at: str) -> Any:
    """Index-keyed mappings -> lists (in index order), empty mappings dropped, keys in the model's order."""
    if not isinstance(node, dict):
        return node
    if node and all(isinstance(key, int) for key in node):
        return [_settled(node[index], at + "[]") for index in sorted(node)]
    settled = {key: _settled(value, f"{at}.{key}" if at else str(key)) for key, value in node.items()}
    settled = {key: value for key, value in settled.items() if value != {}}
    if at == ALLOCATION and FIXED in settled:
        return settled
    order = KEY_ORDER.get(at)
    if order:
        settled = dict(sorted(settled.items(), key=lambda item: _rank(order, item[0])))
    return settled


def _rank(order: tuple[str, ...], key: str) -> int:
    return order.index(key) if key in order else len(order)


def _drop_idle_selects(document: Document) -> None:
    """A select always sends a value: the allocation's alone is no sample (everyone who matches), and
    the default reminder strategy alone says nothing the file needs to."""
    if document.get("reminders") == {"strategy": "uniform"}:
        del document["reminders"]
    audience = document.get("audience")
    sample = audience.get("sample") if isinstance(audience, dict) else None
    idle = isinstance(sample, dict) and set(sample) <= {"allocation"} and sample.get("allocation") == "proportional"
    if isinstance(audience, dict) and idle:
        del audience["sample"]
        if not audience:
            del document["audience"]


def _add_more(document: Document, text: str, problems: dict[str, Explanation]) -> None:
    try:
        more = _reader().load(text)
    except YAMLError as error:
        problems[MORE] = _syntax_error(error)
        return
    if not isinstance(more, dict):
        problems[MORE] = Explanation(
            "form_more_not_mapping", "write keys and values: whatsapp: …, results_back: …, on_unknown: …"
        )
        return
    taken = [key for key in more if key in FORM_KEYS]
    if taken:
        problems[MORE] = Explanation(
            "form_more_taken", "%(taken)s: set in the form's own fields, not here", {"taken": ", ".join(taken)}
        )
        return
    document.update(more)


def _syntax_error(error: YAMLError) -> Explanation:
    """A YAML syntax error in "More" at its line and column, in words a page translates when ruamel's
    problem and context are known phrases (flows.yaml_syntax); else the library's English as it is."""
    if isinstance(error, MarkedYAMLError) and error.problem and error.problem_mark is not None:
        at = error.context_mark
        within = (str(error.context), at.line + 1, at.column + 1) if error.context and at is not None else None
        explained = syntax_explanation(str(error.problem), within)
        if explained is not None:
            mark = error.problem_mark
            where = {"line": mark.line + 1, "column": mark.column + 1, "error": explained}
            return Explanation("form_yaml_syntax_at", "line %(line)s, column %(column)s: %(error)s", where)
    return Explanation("form_yaml_syntax", "YAML syntax error: %(error)s", {"error": str(error)})


# --- YAML -------------------------------------------------------------------------------


def _reader() -> YAML:
    yaml = YAML(typ="safe", pure=True)
    yaml.version = (1, 2)  # as flows.loader reads: no and yes stay text
    return yaml
