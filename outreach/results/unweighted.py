"""Unweighted results as JSON: what `outreach results --format json` prints without --weights, and
the per-question figures the API's results endpoint returns (one model, so the two cannot drift
apart)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from flows.answer_labels import answer_rows, question_types
from flows.campaign import Campaign
from flows.model import Question
from storage.db import SessionFactory, read_session
from storage.read_models import QuestionResult, campaign_results
from storage.tables import CampaignRecord


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class QuestionFigures(_Out):
    id: str
    type: str
    answered: int
    unanswered: int = Field(description="Asked, but no usable answer came.")
    counts: dict[str, int] | None = Field(
        description="Per option key or scale value (yesno, choice, multi, scale); null for number and text."
    )
    mean: float | None
    median: float | None
    min: float | None
    max: float | None


class UnweightedResults(_Out):
    campaign: str
    contacted: int = Field(description="Residents asked (their first question sent).")
    respondents: int = Field(description="Residents who answered at least one question.")
    response_rate: float
    questions: list[QuestionFigures]


def question_figures(question: Question, result: QuestionResult, language: str) -> QuestionFigures:
    counts = None
    if question.type not in ("number", "text"):
        counts = {key: result.counts[key] for key, _ in answer_rows(question, language)}
    numbers = question.type in ("number", "scale")
    summary = question.type == "number"  # a scale's median, min and max are in its counts
    return QuestionFigures(
        id=question.id,
        type=question.type,
        answered=result.answered,
        unanswered=result.unanswered,
        counts=counts,
        mean=result.mean() if numbers else None,
        median=result.median() if summary else None,
        min=result.smallest() if summary else None,
        max=result.largest() if summary else None,
    )


async def unweighted_results(sessions: SessionFactory, record: CampaignRecord, flow: Campaign) -> UnweightedResults:
    assert record.id is not None
    async with read_session(sessions) as session:
        figures = await campaign_results(session, record.id, question_types(flow))
    language = flow.default_language
    return UnweightedResults(
        campaign=record.slug,
        contacted=figures.contacted,
        respondents=figures.respondents,
        response_rate=figures.response_rate,
        questions=[
            question_figures(question, figures.questions.get(question.id) or QuestionResult(question.id), language)
            for question in flow.questions
        ],
    )
