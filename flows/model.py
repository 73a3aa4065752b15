"""Campaign data model: what an official writes in a campaign file, validated by pydantic.

Structural checks (types, unknown keys, allowed languages/channels) live here; checks that need
the whole campaign or several fields at once (ids, `next` targets, translations, cycles, which keys
each question type takes, ranges) live in `flows.validate` and run from the after-validator of
`flows.campaign.Campaign`, so a campaign built from JSON is checked the same way as one loaded from a file.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
)
from pydantic_core import PydanticCustomError

from flows.languages import LANGUAGES
from flows.results_back import ResultsBack
from flows.timing import Duration, OffsetDatetime, QuietHoursText
from flows.unknown_outcomes import OnUnknown

LocalText = dict[str, str]
"""Language code -> text."""

CHANNELS = ("sms", "whatsapp", "telegram", "email")
QuestionType = Literal["yesno", "choice", "multi", "scale", "number", "text"]
QUESTION_TYPES: tuple[QuestionType, ...] = get_args(QuestionType)
BRANCHING_TYPES: tuple[QuestionType, ...] = ("yesno", "choice", "scale")
"""Types whose `next` may be a mapping answer -> target; the others have too many possible answers."""

YESNO_KEYS = ("yes", "no")
END = "end"
"""A `next` target that ends the conversation."""
OTHER = "other"
"""A `next` key for every answer not listed (and for no answer), unless an option is keyed so."""
DEFAULT_QUIET_HOURS = "21:00-08:00"

AnswerValue = str | int | float | list[str]
"""A matched answer: an option key (yesno, choice), option keys (multi), a number (scale, number), text."""

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
            raise PydanticCustomError("duplicate", "{what} '{value}' is listed twice", {"what": what, "value": value})
        seen.add(value)
    return values


def _a_number(value: Any) -> Any:
    # One clear error instead of one per member of `int | float`.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError(
            "number", "'{value}' is not a number; write digits, e.g. 1 or 2.5", {"value": str(value)}
        )
    return value


Bound = Annotated[int | float, BeforeValidator(_a_number)]


def _a_next(value: Any) -> Any:
    """`next` as the model keeps it; one clear error (at the bad branch) instead of one per union member."""
    if value is None or isinstance(value, str):
        return value
    if not isinstance(value, dict):
        raise PydanticCustomError(
            "next",
            "next is a question id, end, or a mapping from answers to question ids, e.g. {no: why_not}",
        )
    branches: dict[str, str] = {}
    for key, target in value.items():
        # Scale branches are written `{1: why_low}`; YAML reads the key as a number, the model keeps text.
        text = str(key).lower() if isinstance(key, bool) else str(key)
        if not isinstance(target, str):
            raise PydanticCustomError(
                "next", "a branch leads to a question id or end; put the id in quotes", {"at": text}
            )
        branches[text] = target
    return branches


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Option(_Frozen):
    key: str = Field(min_length=1)
    text: LocalText
    synonyms: list[str] = []


class Question(_Frozen):
    """One question. Which type-specific keys each type takes is checked in `flows.question_rules`."""

    id: str = Field(min_length=1)
    type: QuestionType
    text: LocalText
    options: list[Option] = []  # choice, multi
    max_choices: int | None = Field(default=None, ge=1)  # multi
    min: Bound | None = None  # scale (required, whole), number
    max: Bound | None = None  # scale (required, whole), number
    low: LocalText | None = None  # scale: label of the lowest value
    high: LocalText | None = None  # scale: label of the highest value
    integer: bool = False  # number
    # text; the cap keeps a pasted page or a flood of mail out of the answers (a long email's reply is cut)
    max_length: int = Field(default=500, ge=1, le=5000)
    next: Annotated[str | dict[str, str], BeforeValidator(_a_next)] | None = None

    def scale_values(self) -> range:
        """min..max of a scale question; empty when the range is not two whole numbers."""
        if self.type != "scale" or not isinstance(self.min, int) or not isinstance(self.max, int):
            return range(0)
        return range(self.min, self.max + 1)

    def branch_keys(self) -> tuple[str, ...]:
        """The keys a `next` mapping may use for this question (besides `other`)."""
        if self.type == "yesno":
            return YESNO_KEYS
        if self.type == "choice":
            return tuple(o.key for o in self.options)
        if self.type == "scale":
            return tuple(str(v) for v in self.scale_values())
        return ()


ALLOCATIONS = ("proportional", "equal")
STRATUM_JOIN = "×"
"""Joins a stratum's values over several dimensions, as in `fixed` keys and margins' joint cells: Oliwa×30-44."""


def _an_allocation(value: Any) -> Any:
    # One clear error instead of one per member of the union.
    if value in ALLOCATIONS or isinstance(value, dict | FixedAllocation):
        return value
    raise PydanticCustomError(
        "allocation",
        "allocation is proportional, equal, or {fixed}; not '{value}'",
        {"value": str(value), "fixed": "{fixed: {stratum: count, …}}"},
    )


class FixedAllocation(_Frozen):
    """How many to draw in each stratum, as the official set it (keys: a stratum's values joined by ×)."""

    fixed: dict[str, Annotated[int, Field(ge=0)]] = Field(min_length=1)


class Sample(_Frozen):
    """Whom of the audience to ask: `size` (or `share`) residents, drawn at random inside each stratum.

    Which combinations are allowed (size or share, margins for proportional allocation) is checked in
    `flows.validate`, so the loader can point at the key concerned."""

    size: int | None = Field(default=None, ge=1)
    share: float | None = Field(default=None, gt=0, le=1)  # of the eligible audience
    strata: list[str] = []  # resident attributes (or language); none: a simple random sample
    allocation: Annotated[Literal["proportional", "equal"] | FixedAllocation, BeforeValidator(_an_allocation)] = (
        "proportional"
    )
    margins: str | None = Field(default=None, min_length=1)  # population margins' name (`outreach margins list`)
    seed: int | None = None  # None: derived from the campaign's id

    @field_validator("strata")
    @classmethod
    def _unique_strata(cls, value: list[str]) -> list[str]:
        return _no_duplicates(value, "stratum dimension")


class Audience(_Frozen):
    where: dict[str, list[str]] = {}
    sample: Sample | None = None  # None: everyone who matches `where`


class Schedule(_Frozen):
    """When a campaign may send. Times carry an offset; quiet hours are in each resident's local time."""

    start: OffsetDatetime | None = None  # None: at launch
    close: OffsetDatetime | None = None  # None: until closed by hand
    quiet_hours: QuietHoursText | None = DEFAULT_QUIET_HOURS  # None: no quiet hours
    reminders: list[Duration] = []  # after the question, to those who have not answered


ReminderStrategy = Literal["uniform", "lagging_strata"]
REMINDER_STRATEGIES: tuple[ReminderStrategy, ...] = get_args(ReminderStrategy)


def _a_strategy(value: Any) -> Any:
    # One clear error that names both strategies, instead of pydantic's literal message.
    if value in REMINDER_STRATEGIES:
        return value
    raise PydanticCustomError(
        "strategy",
        "strategy is uniform (every silent resident alike) or lagging_strata (the strata answering least"
        " first); not '{value}'",
        {"value": str(value)},
    )


class Reminders(_Frozen):
    """Whom the reminders of `schedule.reminders` go to (and channel fallback, after a failed address).

    `uniform`: everyone who has not answered, as they come due. `lagging_strata` (a sample with
    strata): the strata whose response rate lags the campaign's first; a stratum past its target gets
    no further reminders or fallback. `limit`: the most reminders the campaign sends, shared out by
    the strategy (outreach.survey.reminder_shares); None: no limit but the SMS budget."""

    strategy: Annotated[ReminderStrategy, BeforeValidator(_a_strategy)] = "uniform"
    limit: int | None = Field(default=None, ge=1)

    @property
    def shared_out(self) -> bool:
        """Whether the scheduler must decide whom to remind (anything but today's remind-everyone)."""
        return self.strategy != "uniform" or self.limit is not None

    def describe(self) -> str:
        limit = f", at most {self.limit:,}" if self.limit is not None else ""
        if self.strategy == "lagging_strata":
            return f"lagging_strata (the strata answering least first; none past their target){limit}"
        return f"uniform (everyone who has not answered){limit}"


class SmsOptions(_Frozen):
    """How questions go out by SMS."""

    # Fold Polish letters to plain Latin (ą→a, ł→l…) in SMS only: one GSM-7 segment holds 160
    # characters, a UCS-2 one 70. Cyrillic is never folded; other channels keep every letter.
    fold_diacritics: bool = False


class WhatsAppOptions(_Frozen):
    """WhatsApp lets a business write first only with a template Meta approved; free text is allowed
    only within 24 hours of the resident's last message."""

    content_sid: str = Field(pattern=r"^HX[0-9a-fA-F]{32}$")  # Twilio Content API template id
    # Template variables ("1", "2", …) → text per language; {campaign} is the campaign's name.
    variables: dict[str, LocalText] = {}


class CampaignDefinition(_Frozen):
    """A campaign as written, checked field by field; `flows.campaign.Campaign` adds the checks that need
    the whole of it."""

    name: str = Field(min_length=1)
    languages: list[Annotated[str, AfterValidator(_known_language)]] = Field(min_length=1)
    channels: list[Annotated[str, AfterValidator(_known_channel)]] = Field(min_length=1)
    audience: Audience = Audience()
    schedule: Schedule = Schedule()
    reminders: Reminders = Reminders()
    answer_within: Duration | None = None  # None: answers count until the campaign closes
    reask_unclear: int = Field(default=1, ge=0, le=3)
    intro: LocalText | None = None
    # Who processes the answers and where the privacy notice is, on the first message (after the
    # intro): the service writes it from its settings when the campaign is created, unless the file
    # writes its own (flows.texts.PrivacyNotice).
    privacy_notice: LocalText | None = None
    outro: LocalText | None = None
    sms: SmsOptions = SmsOptions()
    whatsapp: WhatsAppOptions | None = None
    # The most the campaign may spend on SMS, in the service's price currency (OUTREACH_SMS_PRICES):
    # checked at launch against the cost preview, and by the dispatcher, which stops there.
    budget: float | None = Field(default=None, gt=0)
    # What respondents are told once the campaign closes (flows.results_back); None: nothing.
    results_back: ResultsBack | None = None
    # Sends of unknown outcome the provider cannot settle: resent or given up, per message kind.
    on_unknown: OnUnknown = OnUnknown()
    questions: list[Question] = Field(min_length=1)

    @field_validator("languages")
    @classmethod
    def _unique_languages(cls, value: list[str]) -> list[str]:
        return _no_duplicates(value, "language")

    @field_validator("channels")
    @classmethod
    def _unique_channels(cls, value: list[str]) -> list[str]:
        return _no_duplicates(value, "channel")

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
        """Where the flow goes when no branch applies (no answer included): a `next` string, the
        mapping's `other`, else the following question."""
        if isinstance(question.next, str):
            return question.next
        if isinstance(question.next, dict) and OTHER in question.next and OTHER not in question.branch_keys():
            return question.next[OTHER]
        # By identity: the engine only passes questions taken from this campaign.
        index = next(i for i, q in enumerate(self.questions) if q is question)
        return self.questions[index + 1].id if index + 1 < len(self.questions) else END

    def next_id(self, question: Question, answer: AnswerValue | None) -> str:
        """The question id (or END) after `question` answered with `answer` (None = unanswered).

        Branches are keyed by text: an option key, yes/no, or a scale value such as "4".
        """
        if isinstance(question.next, dict) and isinstance(answer, str | int) and not isinstance(answer, bool):
            key = str(answer)
            if key in question.next and key in question.branch_keys():
                return question.next[key]
        return self.default_next(question)
