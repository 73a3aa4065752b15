"""Campaign data model: what an official writes in a campaign file, validated by pydantic.

Structural checks (types, unknown keys, allowed languages/channels) live here; checks that need
the whole campaign (ids, `next` targets, translations, cycles) live in `flows.validate` and run
from `Campaign`'s after-validator, so a campaign built from JSON is checked the same way.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

LocalText = dict[str, str]
"""Language code -> text."""

LANGUAGES = ("pl", "en", "uk")
CHANNELS = ("sms", "telegram", "email")
QUESTION_TYPES = ("yesno", "choice")
UNSUPPORTED_QUESTION_TYPES = ("multi", "scale", "number", "text")
END = "end"
"""A `next` target that ends the conversation."""

SKIP_SEMANTIC = "flows.skip_semantic"
"""Validation-context flag: the loader runs `flows.validate` itself to point each problem at its line."""


def not_supported(what: str, instead: str, at: str | None = None) -> PydanticCustomError:
    """An error for a documented feature that is not built yet; refused, never silently ignored.

    `at` names the key below the error's location that the problem concerns, so the loader can
    point at that exact node.
    """
    ctx: dict[str, Any] = {"what": what, "instead": instead}
    if at is not None:
        ctx["at"] = at
    return PydanticCustomError("not_supported", "{what} is not supported yet; {instead}", ctx)


def _known_language(code: str) -> str:
    if code not in LANGUAGES:
        raise PydanticCustomError(
            "language",
            "unknown language '{code}'; use one of: {known}",
            {"code": code, "known": ", ".join(LANGUAGES)},
        )
    return code


def _known_channel(name: str) -> str:
    if name not in CHANNELS:
        raise PydanticCustomError(
            "channel",
            "unknown channel '{name}'; use one of: {known}",
            {"name": name, "known": ", ".join(CHANNELS)},
        )
    return name


def _no_duplicates(values: list[str], what: str) -> list[str]:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise PydanticCustomError(
                "duplicate", "{what} '{value}' is listed twice", {"what": what, "value": value}
            )
        seen.add(value)
    return values


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Option(_Frozen):
    key: str = Field(min_length=1)
    text: LocalText
    synonyms: list[str] = []


class Question(_Frozen):
    id: str = Field(min_length=1)
    type: Literal["yesno", "choice"]
    text: LocalText
    options: list[Option] = []
    next: str | dict[str, str] | None = None

    @model_validator(mode="before")
    @classmethod
    def _refuse_unsupported_type(cls, data: Any) -> Any:
        # Checked before field validation so a `scale` question reports one clear error, not a
        # "should be yesno or choice" plus unknown-key noise about its `min`/`max`.
        if isinstance(data, dict) and data.get("type") in UNSUPPORTED_QUESTION_TYPES:
            raise not_supported(f"question type '{data['type']}'", "use yesno or choice", at="type")
        return data


class Audience(_Frozen):
    where: dict[str, list[str]] = {}
    # Declared only to refuse it with a clear message; excluded from dumps.
    sample: None = Field(default=None, exclude=True, repr=False)

    @field_validator("sample", mode="before")
    @classmethod
    def _refuse_sample(cls, value: Any) -> None:
        raise not_supported("audience.sample", "remove it to ask everyone who matches `where`")


class Campaign(_Frozen):
    name: str = Field(min_length=1)
    languages: list[Annotated[str, AfterValidator(_known_language)]] = Field(min_length=1)
    channels: list[Annotated[str, AfterValidator(_known_channel)]] = Field(min_length=1)
    audience: Audience = Audience()
    reask_unclear: int = Field(default=1, ge=0, le=3)
    intro: LocalText | None = None
    outro: LocalText | None = None
    questions: list[Question] = Field(min_length=1)
    # Documented in PRODUCT.md but not built: declared only so they are refused, never ignored.
    schedule: None = Field(default=None, exclude=True, repr=False)
    answer_within: None = Field(default=None, exclude=True, repr=False)

    @field_validator("schedule", mode="before")
    @classmethod
    def _refuse_schedule(cls, value: Any) -> None:
        raise not_supported("schedule", "remove it (the campaign then runs from launch until it is closed)")

    @field_validator("answer_within", mode="before")
    @classmethod
    def _refuse_answer_within(cls, value: Any) -> None:
        raise not_supported("answer_within", "remove it (answers are accepted until the campaign closes)")

    @field_validator("languages")
    @classmethod
    def _unique_languages(cls, value: list[str]) -> list[str]:
        return _no_duplicates(value, "language")

    @field_validator("channels")
    @classmethod
    def _unique_channels(cls, value: list[str]) -> list[str]:
        return _no_duplicates(value, "channel")

    @model_validator(mode="after")
    def _semantic(self, info: ValidationInfo) -> Campaign:
        if info.context and info.context.get(SKIP_SEMANTIC):
            return self
        from flows.validate import find_problems  # validate imports this module

        problems = find_problems(self)
        if problems:
            raise PydanticCustomError(
                "campaign", "{problems}", {"problems": "; ".join(str(p) for p in problems)}
            )
        return self

    @property
    def default_language(self) -> str:
        return self.languages[0]

    def question(self, id: str) -> Question:
        for question in self.questions:
            if question.id == id:
                return question
        raise KeyError(id)

    def first_question(self) -> Question:
        return self.questions[0]

    def default_next(self, question: Question) -> str:
        """Where the flow goes when no branch applies: a `next` string, else the following question."""
        if isinstance(question.next, str):
            return question.next
        # By identity: the engine only passes questions taken from this campaign.
        index = next(i for i, q in enumerate(self.questions) if q is question)
        return self.questions[index + 1].id if index + 1 < len(self.questions) else END

    def next_id(self, question: Question, answer: str | None) -> str:
        """The question id (or END) after `question` answered with option key `answer` (None = unanswered)."""
        if isinstance(question.next, dict) and answer is not None and answer in question.next:
            return question.next[answer]
        return self.default_next(question)
