"""The campaign page's weighted results (pure): per question, each answer's raw share beside its share
weighted to the campaign's margins, with the 95% margin of error drawn as a whisker, laid out for SVG
and the table beside it. The figures are the read API's (outreach.results.weighted), not recomputed."""

from __future__ import annotations

from dataclasses import dataclass

from flows.answer_labels import answer_rows
from flows.campaign import Campaign
from outreach.results.weighted_models import WeightedResults
from outreach.web.admin.charts import BAR_WIDTH, LABEL_CHARACTERS

PAIR_BAR = 12  # each answer: a raw bar above a weighted one
PAIR_GAP = 12


@dataclass(frozen=True)
class WeightedBar:
    label: str
    short_label: str
    n: int
    share: float | None  # raw, among the question's weighted respondents
    weighted_share: float | None
    margin_of_error: float | None
    y: int
    raw_width: int
    weighted_width: int
    low_x: int  # the whisker, weighted share ± margin, clipped to 0–100%
    high_x: int


@dataclass(frozen=True)
class WeightedChart:
    question_id: str
    text: str
    n: int
    effective_n: float | None
    design_effect: float | None
    bars: list[WeightedBar]  # empty for numbers and free text
    height: int


def _width(share: float | None) -> int:
    return round(max(0.0, min(1.0, share or 0.0)) * BAR_WIDTH)


def weighted_charts(flow: Campaign, weighted: WeightedResults, language: str) -> list[WeightedChart]:
    language = language if language in flow.languages else flow.languages[0]
    by_id = {question.id: question for question in flow.questions}
    charts = []
    for figures in weighted.questions:
        question = by_id[figures.id]
        labels = dict(answer_rows(question, language)) if figures.values is not None else {}
        bars = []
        for index, value in enumerate(figures.values or []):
            label = labels.get(value.value, value.label)
            short = label if len(label) <= LABEL_CHARACTERS else label[: LABEL_CHARACTERS - 1] + "…"
            centre, margin = value.weighted_share or 0.0, value.margin_of_error or 0.0
            bars.append(
                WeightedBar(
                    label=label,
                    short_label=short,
                    n=value.n,
                    share=value.share,
                    weighted_share=value.weighted_share,
                    margin_of_error=value.margin_of_error,
                    y=index * (2 * PAIR_BAR + PAIR_GAP),
                    raw_width=_width(value.share),
                    weighted_width=_width(value.weighted_share),
                    low_x=_width(centre - margin),
                    high_x=_width(centre + margin),
                )
            )
        charts.append(
            WeightedChart(
                question_id=figures.id,
                text=question.text[language],
                n=figures.n,
                effective_n=figures.effective_n,
                design_effect=figures.design_effect,
                bars=bars,
                height=max(0, len(bars) * (2 * PAIR_BAR + PAIR_GAP) - PAIR_GAP),
            )
        )
    return charts
