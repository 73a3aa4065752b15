"""The read side: results and exports. Pseudonymous ids and non-identifying attributes only."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.tables import CampaignRecord, Conversation, Response
from storage.weighting_cells import snapshot_values


@dataclass
class QuestionResult:
    question_id: str
    answered: int = 0
    unanswered: int = 0
    counts: Counter[str] = field(default_factory=Counter)  # per option key or scale value
    numbers: list[float] = field(default_factory=list)  # number and scale answers

    def share(self, key: str) -> float:
        """Of those who answered, the share who chose `key` (several per person on multi questions)."""
        return self.counts[key] / self.answered if self.answered else 0.0


@dataclass(frozen=True)
class CampaignResults:
    contacted: int
    respondents: int
    questions: dict[str, QuestionResult]

    @property
    def response_rate(self) -> float:
        return self.respondents / self.contacted if self.contacted else 0.0


async def campaign_results(
    session: AsyncSession, campaign_id: int, question_types: Mapping[str, str]
) -> CampaignResults:
    """Counts per question; `question_types` (id → type) says how to count: text answers are only
    counted (their words stay out of results), numbers and scales are also kept as numbers."""
    contacted = (
        await session.execute(
            select(func.count())
            .select_from(Conversation)
            .where(col(Conversation.campaign_id) == campaign_id)
            .where(col(Conversation.asked_at).is_not(None))  # waiting ones were never asked
        )
    ).scalar_one()
    respondents = (
        await session.execute(
            select(func.count(func.distinct(col(Response.resident_id))))
            .where(col(Response.campaign_id) == campaign_id)
            .where(col(Response.value).is_not(None))
        )
    ).scalar_one()
    questions: dict[str, QuestionResult] = {}
    rows = await session.execute(
        select(col(Response.question_id), col(Response.value)).where(col(Response.campaign_id) == campaign_id)
    )
    for question_id, value in rows.all():
        result = questions.setdefault(question_id, QuestionResult(question_id))
        if value is None:
            result.unanswered += 1
            continue
        result.answered += 1
        kind = question_types.get(question_id)
        if kind in ("number", "scale") and isinstance(value, int | float):
            result.numbers.append(float(value))
        if kind not in ("text", "number"):
            for key in value if isinstance(value, list) else [value]:
                result.counts[str(key)] += 1
    return CampaignResults(contacted=int(contacted), respondents=int(respondents), questions=questions)


@dataclass
class GroupResults:
    """The answers of the respondents who share one value of an attribute (None: not recorded)."""

    value: str | None
    respondents: int = 0
    questions: dict[str, QuestionResult] = field(default_factory=dict)


async def campaign_results_by(
    session: AsyncSession, campaign_id: int, question_types: Mapping[str, str], attribute: str
) -> dict[str | None, GroupResults]:
    """`campaign_results` per value of one respondent attribute (`language`, or one of the resident's
    attributes), streamed from the database. Each answer counts under the value its respondent had when
    giving it (the snapshot on the answer). Raw figures: small cells are the caller's to suppress."""
    group_of = col(Response.language) if attribute == "language" else col(Response.attributes)[attribute].as_string()
    statement = (
        select(col(Response.resident_id), col(Response.question_id), col(Response.value), group_of)
        .where(col(Response.campaign_id) == campaign_id)
        .execution_options(yield_per=1000)
    )
    groups: dict[str | None, GroupResults] = {}
    respondents: dict[str | None, set[int]] = {}
    result = await session.stream(statement)
    async for resident_id, question_id, value, raw_group in result:
        value_of_group = None if raw_group is None else str(raw_group)
        group = groups.setdefault(value_of_group, GroupResults(value_of_group))
        figures = group.questions.setdefault(question_id, QuestionResult(question_id))
        if value is None:
            figures.unanswered += 1
            continue
        respondents.setdefault(value_of_group, set()).add(resident_id)
        figures.answered += 1
        kind = question_types.get(question_id)
        if kind in ("number", "scale") and isinstance(value, int | float):
            figures.numbers.append(float(value))
        if kind not in ("text", "number"):
            for key in value if isinstance(value, list) else [value]:
                figures.counts[str(key)] += 1
    for value_of_group, group in groups.items():
        group.respondents = len(respondents.get(value_of_group, ()))
    return groups


ANSWER_FIELDS = ("campaign", "question", "respondent", "value", "channel", "answered_at", "language")


def export_fields(attributes: Sequence[str]) -> list[str]:
    """The columns of an export: the answer, then the allowlisted attributes."""
    return [*ANSWER_FIELDS, *(name for name in attributes if name not in ANSWER_FIELDS)]


WEIGHTING_VALUES = "weighting_values"  # export_rows' key for the values weights are looked up by


async def export_rows(
    session: AsyncSession, campaign: CampaignRecord, attributes: Sequence[str], weighting: Sequence[str] = ()
) -> AsyncIterator[dict[str, Any]]:
    """Every answer of a campaign, streamed from the database in commit order (`storage.commit_order`;
    on SQLite, answer order), with only the allowlisted `attributes` of the respondent as they were when
    answering (the snapshot on the answer, never the resident's current row). Plain columns,
    not ORM objects, a thousand rows at a time: memory stays flat however many answers there are.
    With `weighting` (dimensions), each row also holds the respondent's values of those dimensions under
    WEIGHTING_VALUES, for the caller to look a weight up by and never to publish."""
    statement = (
        select(
            col(Response.question_id),
            col(Response.respondent),
            col(Response.value),
            col(Response.channel),
            col(Response.answered_at),
            col(Response.attributes),
            col(Response.language),
        )
        .where(col(Response.campaign_id) == campaign.id)
        .where(col(Response.value).is_not(None))
        .order_by(col(Response.txid), col(Response.id))
        .execution_options(yield_per=1000)
    )
    result = await session.stream(statement)
    async for question_id, respondent, value, channel, answered_at, respondent_attributes, language in result:
        yield {
            "campaign": campaign.slug,
            "question": question_id,
            "respondent": respondent,
            "value": value,
            "channel": channel,
            "answered_at": answered_at,  # exact: the caller publishes it coarsened
            "language": language,
            **{name: respondent_attributes.get(name) for name in attributes if name not in ANSWER_FIELDS},
            **({WEIGHTING_VALUES: snapshot_values(weighting, language, respondent_attributes)} if weighting else {}),
        }
