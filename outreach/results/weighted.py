"""Weighted results, built once for the CLI (`outreach results --weights`) and the API
(`?weights=`): per question and answer n, the unweighted and weighted share and a 95% margin of
error; per question n, effective n and design effect; per stratum (each value of each dimension
weighted on) the population share, residents asked, respondents and response rate, with counts of
fewer than k suppressed like every other breakdown; warnings for strata with fewer than 10 answers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flows.answer_labels import answer_rows
from flows.campaign import Campaign
from flows.model import Question
from outreach.results.weighted_models import Stratum, WeightedQuestion, WeightedResults, WeightedValue
from outreach.results.weighting import CellWeights, cell_weights, dimensions_of, matches
from outreach.results.weighting_request import WeightingRequest
from outreach.survey.estimates import THIN_STRATUM, Answer, estimate_question
from outreach.survey.margins import Margins, fold_value
from outreach.survey.margins_store import load_margins
from outreach.survey.small_cells import suppressed_line
from storage.db import SessionFactory, read_session
from storage.grouping import prepare_grouping
from storage.tables import CampaignRecord
from storage.weighting_cells import (
    AnswerCell,
    RespondentCell,
    Values,
    answer_cells,
    contacted_cells,
    respondent_cells,
    respondent_probabilities,
)

_COUNTED = ("yesno", "choice", "multi", "scale")  # questions whose answers are keys to share out


@dataclass(frozen=True)
class WeightingCells:
    """What the weighted results are built from, read from the store (so the building can run off the
    event loop, with no session)."""

    slug: str
    margins: Margins
    dimensions: tuple[str, ...]
    respondents: list[RespondentCell]
    answers: list[AnswerCell]
    contacted: list[tuple[Values, int]]


async def read_weighting_cells(
    sessions: SessionFactory, record: CampaignRecord, request: WeightingRequest
) -> WeightingCells:
    """MarginsError: margins or a dimension that do not exist."""
    assert record.id is not None
    async with read_session(sessions) as session:
        margins = await load_margins(session, request.margins)
        dimensions = dimensions_of(margins, request.by)
        await prepare_grouping(session)
        respondents = await respondent_cells(session, record.id, dimensions)
        answers = await answer_cells(session, record.id, dimensions)
        contacted = await contacted_cells(session, record.id, dimensions)
    return WeightingCells(record.slug, margins, dimensions, respondents, answers, list(contacted))


async def weighted_results(
    sessions: SessionFactory, record: CampaignRecord, flow: Campaign, request: WeightingRequest, *, k: int
) -> WeightedResults:
    """The campaign's results weighted to the margins `request` names. MarginsError: margins or a
    dimension that do not exist; WeightingError: weights that cannot be made (the message says why)."""
    return build_weighted_results(await read_weighting_cells(sessions, record, request), flow, request, k=k)


def build_weighted_results(
    cells: WeightingCells, flow: Campaign, request: WeightingRequest, *, k: int
) -> WeightedResults:
    """The results `weighted_results` returns, from what it read (CPU only: no session). WeightingError
    as there."""
    margins, dimensions, respondents, answers, contacted = (
        cells.margins,
        cells.dimensions,
        cells.respondents,
        cells.answers,
        cells.contacted,
    )
    weights = cell_weights(
        margins, dimensions, respondents, trim=request.trim, collapse=request.collapse, thin=request.thin
    )
    weighting = weights.weighting
    strata = _strata(margins, weights, respondents, contacted, k)
    return WeightedResults(
        campaign=cells.slug,
        margins=margins.name,
        method=weighting.method,
        by=list(dimensions),
        joint=weighting.joint,
        trim=request.trim,
        thin=request.thin,
        trimmed=weighting.weights.trimmed,
        iterations=weighting.weights.iterations,
        k=k,
        contacted=sum(count for _, count in contacted),
        respondents=sum(cell.respondents for cell in respondents),
        weighted=weighting.weights.n,
        effective_n=weighting.weights.effective_n,
        design_effect=weighting.weights.design_effect,
        left_out=weights.left_out,
        unmatched={dimension: _suppressed(counts, k) for dimension, counts in weights.unmatched.items()},
        strata=strata,
        questions=[_question(question, flow.default_language, answers, weights) for question in flow.questions],
        warnings=_warnings(margins, weights, respondents),
    )


@dataclass(frozen=True)
class RespondentWeights:
    """Each respondent's weight for an export: looked up by their values of the dimensions weighted on
    (the snapshot on the answer) and their inclusion probability, as the results weigh them."""

    by: tuple[str, ...]
    cells: CellWeights
    probabilities: Mapping[str, float]  # respondent (pseudonym) -> inclusion probability; absent: 1

    def weight(self, respondent: str, values: Values) -> float | None:
        """None for a respondent left out (a value matching no margin)."""
        return self.cells.weight(values, self.probabilities.get(respondent, 1.0))


async def respondent_weights(
    sessions: SessionFactory, record: CampaignRecord, request: WeightingRequest
) -> RespondentWeights:
    """The weights `weighted_results` uses, per respondent (same errors)."""
    assert record.id is not None
    async with read_session(sessions) as session:
        margins = await load_margins(session, request.margins)
        dimensions = dimensions_of(margins, request.by)
        respondents = await respondent_cells(session, record.id, dimensions)
        probabilities = await respondent_probabilities(session, record.id)
    cells = cell_weights(
        margins, dimensions, respondents, trim=request.trim, collapse=request.collapse, thin=request.thin
    )
    return RespondentWeights(dimensions, cells, probabilities)


def _number(value: float) -> float | None:
    return None if math.isnan(value) else value


def _question(question: Question, language: str, cells: Sequence[AnswerCell], weights: CellWeights) -> WeightedQuestion:
    answers: list[Answer] = []
    weight_list: list[float] = []
    frequencies: list[int] = []
    for cell in cells:
        if cell.question_id != question.id:
            continue
        weight = weights.weight(cell.values, cell.inclusion_probability)
        if weight is None:
            continue  # left out: a value matching no margin
        answers.append(_answer(cell.value))
        weight_list.append(weight)
        frequencies.append(cell.answers)
    rows = answer_rows(question, language) if question.type in _COUNTED else []
    keys = [key for key, _ in rows]
    shared = answers if rows else [""] * len(answers)  # numbers and texts: only counted
    estimate = estimate_question(shared, weight_list, keys, frequencies=frequencies)
    values = None
    if rows:
        labels = dict(rows)
        values = [
            WeightedValue(
                value=value.value,
                label=labels.get(value.value, value.value),
                n=value.n,
                share=_number(value.share),
                weighted_share=_number(value.weighted_share),
                margin_of_error=_number(value.margin_of_error),
            )
            for value in estimate.values
        ]
    return WeightedQuestion(
        id=question.id,
        type=question.type,
        n=estimate.n,
        effective_n=estimate.effective_n if estimate.n else None,
        design_effect=_number(estimate.design_effect),
        values=values,
    )


def _answer(value: Any) -> Answer:
    if isinstance(value, list):
        return tuple(str(key) for key in value)
    return str(value)


def _suppressed(counts: Mapping[str, int], k: int) -> dict[str, int | None]:
    hidden = suppressed_line(counts, k)
    return {value: None if value in hidden else count for value, count in counts.items()}


def _per_value(
    margins: Margins, dimension: str, position: int, counted: Sequence[tuple[Values, int]]
) -> dict[str, int]:
    """Counts per folded margin value of `dimension`; values matching no margin under their own text."""
    counts: dict[str, int] = dict.fromkeys(margins.dimensions[dimension], 0)
    for values, count in counted:
        value = values[position]
        key = fold_value(value) if value is not None and matches(margins, dimension, value) else f"\0{value or ''}"
        counts[key] = counts.get(key, 0) + count
    return counts


def _strata(
    margins: Margins,
    weights: CellWeights,
    respondents: Sequence[RespondentCell],
    contacted: Sequence[tuple[Values, int]],
    k: int,
) -> list[Stratum]:
    weighting = weights.weighting
    strata: list[Stratum] = []
    for position, dimension in enumerate(weighting.by):
        # Lines whose totals are shown (everyone asked, everyone who answered): withhold small counts.
        answered = _per_value(margins, dimension, position, [(cell.values, cell.respondents) for cell in respondents])
        asked = _per_value(margins, dimension, position, contacted)
        hidden_answered = suppressed_line(answered, k)
        hidden_asked = suppressed_line(asked, k)
        weighted = _weighted_shares(weights, position, margins, dimension, respondents)
        into = {fold_value(value): neighbour for value, neighbour in weighting.collapsed.get(dimension, ())}
        left = weights.left_unweighted.get(dimension, {})
        for value, share in margins.shares(dimension).items():
            shown_answered = None if value in hidden_answered else answered[value]
            shown_asked = None if value in hidden_asked else asked[value]
            rate = shown_answered / shown_asked if shown_answered is not None and shown_asked else None
            strata.append(
                Stratum(
                    dimension=dimension,
                    value=margins.label(dimension, value),
                    population_share=share,
                    contacted=shown_asked,
                    answered=shown_answered,
                    response_rate=rate,
                    weighted_share=weighted.get(value, 0.0),
                    collapsed_into=into.get(value),
                    left_unweighted=value in left,
                )
            )
    return strata


def _weighted_shares(
    weights: CellWeights, position: int, margins: Margins, dimension: str, respondents: Sequence[RespondentCell]
) -> dict[str, float]:
    totals: dict[str, float] = {}
    for cell in respondents:
        weight = weights.weight(cell.values, cell.inclusion_probability)
        value = cell.values[position]
        if weight is None or value is None:
            continue
        key = fold_value(value)
        totals[key] = totals.get(key, 0.0) + weight * cell.respondents
    total = sum(totals.values())
    return {key: value / total for key, value in totals.items()} if total > 0 else {}


def _warnings(margins: Margins, weights: CellWeights, respondents: Sequence[RespondentCell]) -> list[str]:
    weighting = weights.weighting
    warnings: list[str] = []
    for position, dimension in enumerate(weighting.by):
        collapsed = dict(weighting.collapsed.get(dimension, ()))
        for written, neighbour in collapsed.items():
            warnings.append(f"{dimension}={written} is weighted together with {neighbour}, as asked (--collapse)")
        answered = _per_value(margins, dimension, position, [(cell.values, cell.respondents) for cell in respondents])
        shares = margins.shares(dimension)
        left = weights.left_unweighted.get(dimension, {})
        for value, count in answered.items():
            label = margins.label(dimension, value)
            if value.startswith("\0") or not 0 < count < THIN_STRATUM or label in collapsed:
                continue
            if value in left:
                warnings.append(
                    f"{dimension}={label} has fewer than {THIN_STRATUM} answers: left unweighted, as asked (--thin"
                    f" leave): weighted to its share of the sample ({left[value]:.1%}) instead of the population's"
                    f" ({shares[value]:.1%})"
                )
                continue
            warnings.append(
                f"{dimension}={label} has fewer than {THIN_STRATUM} answers: its weights rest on few people;"
                f" to weight it together with a neighbour, add --collapse {dimension}:{label}=NEIGHBOUR,"
                " or leave it unweighted with --thin leave"
            )
    if weights.left_out:
        for dimension, counts in weights.unmatched.items():
            named = ", ".join(repr(value) if value else "(none)" for value in counts)
            warnings.append(
                f"respondents whose {dimension} matches no value of margins {margins.name!r} are left out of the"
                f" weighted figures: {named}"
            )
    return warnings
