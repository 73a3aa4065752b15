"""The read side: results (exports: storage.exports). Pseudonymous ids and non-identifying attributes only."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.grouping import as_text, json_text, prepare_grouping
from storage.tables import Conversation, Response


@dataclass
class QuestionResult:
    question_id: str
    answered: int = 0
    unanswered: int = 0
    counts: Counter[str] = field(default_factory=Counter)  # per option key or scale value
    numbers: Counter[float] = field(default_factory=Counter)  # number and scale answers: value -> how many

    def share(self, key: str) -> float:
        """Of those who answered, the share who chose `key` (several per person on multi questions)."""
        return self.counts[key] / self.answered if self.answered else 0.0

    def count(self, question_type: str | None, value: Any, times: int = 1) -> None:
        """Count `times` answers of `value` (None: asked, never answered) to a question of this type:
        text answers are only counted (their words stay out of results), numbers and scales are also
        kept as numbers."""
        if value is None:
            self.unanswered += times
            return
        self.answered += times
        if question_type in ("number", "scale") and isinstance(value, int | float):
            self.numbers[float(value)] += times
        if question_type not in ("text", "number"):
            for key in value if isinstance(value, list) else [value]:
                self.counts[str(key)] += times

    def mean(self) -> float | None:
        total = sum(self.numbers.values())
        return sum(value * times for value, times in self.numbers.items()) / total if total else None

    def median(self) -> float | None:
        """The middle number (the mean of the two middle ones when their count is even)."""
        total = sum(self.numbers.values())
        if not total:
            return None
        middle = [(total - 1) // 2, total // 2]  # positions in the sorted numbers
        found: list[float] = []
        seen = 0
        for value in sorted(self.numbers):
            seen += self.numbers[value]
            while middle and middle[0] < seen:
                found.append(value)
                middle.pop(0)
        return (found[0] + found[1]) / 2

    def smallest(self) -> float | None:
        return min(self.numbers) if self.numbers else None

    def largest(self) -> float | None:
        return max(self.numbers) if self.numbers else None


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
    """Counts per question; `question_types` (id → type) says how to count (QuestionResult.count).
    The answers are grouped in the database, per question and answer (on SQLite in the order of the
    results index, storage.tables.RESULTS_INDEX): a million answers come back as a few rows."""
    await prepare_grouping(session)
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
    for question_id, value, times in await answers_counted(session, campaign_id):
        result = questions.setdefault(question_id, QuestionResult(question_id))
        result.count(question_types.get(question_id), value, times)
    return CampaignResults(contacted=int(contacted), respondents=int(respondents), questions=questions)


async def answers_counted(session: AsyncSession, campaign_id: int) -> list[tuple[str, Any, int]]:
    """(question, answer, how many gave it) for every answer of the campaign; answer None: asked,
    never answered."""
    value = as_text(session, col(Response.value))
    statement = (
        select(col(Response.question_id), value, func.count())
        .where(col(Response.campaign_id) == campaign_id)
        .group_by(col(Response.question_id), value)
    )
    return [
        (question_id, None if stored is None else json.loads(json_text(stored)), int(times))
        for question_id, stored, times in (await session.execute(statement)).all()
    ]


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
        figures.count(question_types.get(question_id), value)
    for value_of_group, group in groups.items():
        group.respondents = len(respondents.get(value_of_group, ()))
    return groups
