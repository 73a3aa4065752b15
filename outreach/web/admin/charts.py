"""What a campaign page draws: per question, a bar per answer with its count and share, laid out for
an SVG the template writes (no chart library, nothing to download) and for the table beside it that
says the same in numbers (WCAG: a chart is never the only way to read a figure)."""

from __future__ import annotations

from dataclasses import dataclass

from flows.answer_labels import answer_rows
from flows.campaign import Campaign
from flows.model import Question
from storage.read_models import CampaignResults, QuestionResult

BAR_HEIGHT = 22
BAR_GAP = 8
LABEL_WIDTH = 220  # the answer's label left of its bar (longer labels are cut in the SVG, not the table)
BAR_WIDTH = 300
LABEL_CHARACTERS = 26


@dataclass(frozen=True)
class Bar:
    label: str
    short_label: str  # what fits left of the bar
    count: int
    share: float  # of those who answered the question
    y: int
    width: int


@dataclass(frozen=True)
class QuestionChart:
    question_id: str
    text: str
    kind: str  # the question's type
    answered: int
    unanswered: int
    bars: list[Bar]  # empty for numbers and free text: they are summed up, not drawn
    height: int
    several_each: bool  # a multi question: shares add up to more than 100%
    mean: float | None
    median: float | None


def question_charts(flow: Campaign, results: CampaignResults, language: str) -> list[QuestionChart]:
    language = language if language in flow.languages else flow.languages[0]
    return [
        _chart(question, results.questions.get(question.id) or QuestionResult(question.id), language)
        for question in flow.questions
    ]


def _chart(question: Question, figures: QuestionResult, language: str) -> QuestionChart:
    bars = []
    if question.type not in ("number", "text"):
        for index, (key, label) in enumerate(answer_rows(question, language)):
            share = figures.share(key)
            short = label if len(label) <= LABEL_CHARACTERS else label[: LABEL_CHARACTERS - 1] + "…"
            bars.append(
                Bar(
                    label=label,
                    short_label=short,
                    count=figures.counts[key],
                    share=share,
                    y=index * (BAR_HEIGHT + BAR_GAP),
                    width=round(share * BAR_WIDTH),
                )
            )
    numeric = question.type in ("number", "scale")
    return QuestionChart(
        question_id=question.id,
        text=question.text[language],
        kind=question.type,
        answered=figures.answered,
        unanswered=figures.unanswered,
        bars=bars,
        height=max(0, len(bars) * (BAR_HEIGHT + BAR_GAP) - BAR_GAP),
        several_each=question.type == "multi",
        mean=figures.mean() if numeric else None,
        median=figures.median() if numeric else None,
    )
