"""What the campaign editor's form shows for the fields it holds: the languages its texts are written
in, each question's options and type-specific fields, and where each loader problem goes (the field
of its path, else the nearest field above it); plus adding and removing questions and options, done
on the fields themselves so nothing typed is lost on the way (the buttons work without JavaScript)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from flows.explanation import Explanation
from flows.loader import CampaignError
from flows.model import QUESTION_TYPES
from outreach.web.admin.campaign_form import MORE, NO_QUIET_HOURS, YAML_ONLY

# The fields each question type takes besides id, type, text and next (flows.question_rules).
TYPE_FIELDS: dict[str, tuple[str, ...]] = {
    "yesno": (),
    "choice": ("options",),
    "multi": ("options", "max_choices"),
    "scale": ("min", "max", "low", "high"),
    "number": ("min", "max", "integer"),
    "text": ("max_length",),
}
TYPE_KEYS = ("options", "max_choices", "min", "max", "low", "high", "integer", "max_length")
TRANSLATED = ("low", "high")
TOP_TEXTS = ("intro", "privacy_notice", "outro")
SETTINGS = (
    "audience.where",
    "audience.sample.size",
    "audience.sample.share",
    "audience.sample.strata",
    "audience.sample.allocation",
    "audience.sample.allocation.fixed",
    "audience.sample.margins",
    "audience.sample.seed",
    "schedule.start",
    "schedule.close",
    "schedule.quiet_hours",
    NO_QUIET_HOURS,
    "schedule.reminders",
    "reminders.strategy",
    "reminders.limit",
    "answer_within",
    "reask_unclear",
    "budget",
    "sms.fold_diacritics",
    MORE,
)
_LANGUAGE_TEXT = re.compile(r"(?:^|\.)(?:text|low|high|intro|privacy_notice|outro)\.([a-z]{2,3})$")


@dataclass(frozen=True)
class QuestionLayout:
    index: int
    type: str
    options: list[int]
    shown: tuple[str, ...]  # of TYPE_FIELDS' keys: those of its type, and any other holding a value

    @property
    def prefix(self) -> str:
        return f"questions[{self.index}]"


@dataclass(frozen=True)
class EditorLayout:
    languages: list[str]
    questions: list[QuestionLayout]

    def names(self) -> list[str]:
        """Every field the form shows, in its order."""
        names = ["name", "languages", "channels"]
        names += [f"{text}.{language}" for text in TOP_TEXTS for language in self.languages]
        for question in self.questions:
            at = question.prefix
            names += [f"{at}.id", f"{at}.type", *(f"{at}.text.{language}" for language in self.languages)]
            for key in question.shown:
                if key == "options":
                    for option in question.options:
                        names += [f"{at}.options[{option}].key"]
                        names += [f"{at}.options[{option}].text.{language}" for language in self.languages]
                        names += [f"{at}.options[{option}].synonyms"]
                elif key in TRANSLATED:
                    names += [f"{at}.{key}.{language}" for language in self.languages]
                else:
                    names.append(f"{at}.{key}")
            names.append(f"{at}.next")
        return names + list(SETTINGS)


def _indices(fields: Iterable[str], pattern: str) -> list[int]:
    found = {int(match.group(1)) for name in fields if (match := re.match(pattern, name))}
    return sorted(found)


def editor_layout(fields: Mapping[str, str]) -> EditorLayout:
    languages = [code.strip() for code in fields.get("languages", "").split(",") if code.strip()]
    for name in fields:  # a text in a language not (or no longer) listed stays visible, not lost
        match = _LANGUAGE_TEXT.search(name)
        if match and match.group(1) not in languages:
            languages.append(match.group(1))
    questions = []
    for index in _indices(fields, r"questions\[(\d+)\]\."):
        at = f"questions[{index}]"
        kind = fields.get(f"{at}.type", "yesno")
        options = _indices(fields, rf"{re.escape(at)}\.options\[(\d+)\]\.")
        shown = tuple(
            key
            for key in TYPE_KEYS
            if key in TYPE_FIELDS.get(kind, ())
            or any(_under(name, f"{at}.{key}") and fields[name].strip() for name in fields)
        )
        questions.append(QuestionLayout(index, kind if kind in QUESTION_TYPES else "yesno", options, shown))
    return EditorLayout(languages or ["pl"], questions)


def _under(name: str, path: str) -> bool:
    return name == path or name.startswith((path + ".", path + "["))


def field_id(name: str) -> str:
    """An HTML id for a field name (`questions[0].text.pl` -> `f-questions-0-text-pl`)."""
    return "f-" + re.sub(r"[^A-Za-z0-9_]+", "-", name).strip("-")


@dataclass(frozen=True)
class PlacedError:
    """A loader problem as a page shows it: the English text, and its explanation (translated on the page)
    after the path it concerns, which is left out at the path's own field."""

    text: str
    explanation: Explanation | None = None
    path: str = ""


def placed_errors(
    errors: Iterable[CampaignError], names: list[str]
) -> tuple[dict[str, list[PlacedError]], list[PlacedError]]:
    """Each problem at its field (by the loader's path), or among the form's own when no field fits."""
    at_fields: dict[str, list[PlacedError]] = {}
    general: list[PlacedError] = []
    for error in errors:
        target = _field_for(error.path, names)
        said_after = said_after_path(error)
        if target is None:
            general.append(PlacedError(error.message, error.explanation, said_after))
        else:  # the path is said unless it is the field's own
            exact = error.path and target == error.path
            text = error.message.removeprefix(f"{error.path}: ") if exact else error.message
            at_fields.setdefault(target, []).append(PlacedError(text, error.explanation, "" if exact else said_after))
    return at_fields, general


def said_after_path(error: CampaignError) -> str:
    """The path an explained message is said after: none when the explanation says its place itself."""
    explained_alone = error.explanation is not None and error.message == error.explanation.text
    return "" if explained_alone else error.path


def _field_for(path: str, names: list[str]) -> str | None:
    if path.split(".")[0].split("[")[0] in YAML_ONLY:  # written under "More"
        return MORE
    while path:
        if path in names:
            return path
        below = next((name for name in names if _under(name, path)), None)
        if below is not None:
            return below
        above = re.sub(r"(\.[^.\[\]]+|\[\d+\])$", "", path)
        path = above if above != path else ""  # a top-level key: nothing above it
    return None


# --- adding and removing questions and options, on the fields --------------------------------------------


def with_question(fields: Mapping[str, str]) -> dict[str, str]:
    index = len(_indices(fields, r"questions\[(\d+)\]\."))
    return {**fields, f"questions[{index}].id": "", f"questions[{index}].type": "yesno"}


def with_option(fields: Mapping[str, str], question: int) -> dict[str, str]:
    at = f"questions[{question}]"
    index = len(_indices(fields, rf"{re.escape(at)}\.options\[(\d+)\]\."))
    return {**fields, f"{at}.options[{index}].key": ""}


def without(fields: Mapping[str, str], group: str, index: int) -> dict[str, str]:
    """The fields less item `index` of the list `group` (`questions`, `questions[1].options`), those
    after it moved up one."""
    pattern = re.compile(rf"^{re.escape(group)}\[(\d+)\](.*)$", re.S)
    kept: dict[str, str] = {}
    for name, value in fields.items():
        match = pattern.match(name)
        if match is None:
            kept[name] = value
        elif int(match.group(1)) != index:
            position = int(match.group(1))
            kept[f"{group}[{position - 1 if position > index else position}]{match.group(2)}"] = value
    return kept
