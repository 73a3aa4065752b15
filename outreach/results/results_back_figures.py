"""The figures a campaign's results-back message is filled with: per question it names, the top answer
and its share (weighted to the campaign's margins when it has them, else unweighted, and then the
message says so), and per district the share of that same answer where small-cell suppression
(outreach.survey.small_cells) would show the district's counts."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from flows.answer_labels import answer_rows, question_types
from flows.campaign import Campaign
from flows.results_back import ANSWER, DISTRICT, DISTRICT_SHARE, SHARE, percent, question_ids, value_key
from outreach.survey.small_cells import suppressed_line
from storage.db import SessionFactory, read_session
from storage.read_models import QuestionResult, campaign_results, campaign_results_by
from storage.tables import CampaignRecord

log = logging.getLogger(__name__)

DISTRICT_ATTRIBUTE = "district"


@dataclass(frozen=True)
class TopAnswer:
    key: str
    share: float


@dataclass(frozen=True)
class ResultsBackFigures:
    weighted: bool
    top: Mapping[str, TopAnswer]  # question id -> the campaign's top answer
    # district (as the answers' snapshots write it) -> question id -> share of the campaign's top answer
    districts: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    def values(self, flow: Campaign, language: str, district: str | None) -> tuple[dict[str, str], bool]:
        """The placeholders' values in `language`, and whether the district's sentence may be added."""
        values: dict[str, str] = {}
        for question_id, top in self.top.items():
            labels = dict(answer_rows(flow.question(question_id), language))
            values[value_key(ANSWER, question_id)] = labels.get(top.key, top.key)
            values[value_key(SHARE, question_id)] = percent(top.share)
        shares = self.districts.get(district) if district is not None else None
        if shares is None:
            return values, False
        values[value_key(DISTRICT)] = district or ""
        for question_id, share in shares.items():
            values[value_key(DISTRICT_SHARE, question_id)] = percent(share)
        return values, True


async def results_back_figures(
    sessions: SessionFactory, record: CampaignRecord, flow: Campaign, *, k: int
) -> ResultsBackFigures | None:
    """The figures, or None when a question the message names has no answer (nothing to tell)."""
    assert record.id is not None and flow.results_back is not None
    ids = question_ids(flow.results_back)
    weighted = await _weighted_top(sessions, record, flow, ids, k=k)
    kinds = question_types(flow)
    async with read_session(sessions) as session:
        figures = await campaign_results(session, record.id, kinds)
        groups = (
            await campaign_results_by(session, record.id, kinds, DISTRICT_ATTRIBUTE)
            if flow.results_back.district is not None
            else {}
        )
    top = weighted if weighted is not None else _unweighted_top(flow, figures.questions, ids)
    if top is None:
        return None
    # Districts whose respondents small-cell suppression would show, and in each, per question, the
    # count of the top answer where that question's line of answers would show it too.
    respondents = {value: group.respondents for value, group in groups.items() if value is not None}
    hidden = suppressed_line(respondents, k)
    districts: dict[str, dict[str, float]] = {}
    for value, group in groups.items():
        if value is None or value in hidden:
            continue
        shares: dict[str, float] = {}
        for question_id, answer in top.items():
            result = group.questions.get(question_id) or QuestionResult(question_id)
            line = {
                key: result.counts[key] for key, _ in answer_rows(flow.question(question_id), flow.default_language)
            }
            if result.answered and answer.key not in suppressed_line(line, k):
                shares[question_id] = result.counts[answer.key] / result.answered
        if len(shares) == len(top):  # every figure of the sentence can be shown
            districts[value] = shares
    return ResultsBackFigures(weighted=weighted is not None, top=top, districts=districts)


# The weighted figures (outreach.results.results_back_weighted) use numpy, which only a campaign with
# margins needs: imported by name when one tells its results, so that every command wiring the services
# (the bootstrap builds ResultsBack) starts without numpy (issue 18). Not a cycle: that module imports
# this one's TopAnswer at its top.
WEIGHTED_TOP = ("outreach.results.results_back_weighted", "weighted_top")


async def _weighted_top(
    sessions: SessionFactory, record: CampaignRecord, flow: Campaign, ids: list[str], *, k: int
) -> dict[str, TopAnswer] | None:
    """Top answers weighted to the campaign's margins by its sample's strata; None without margins, or
    when weights cannot be made (then the unweighted figures are told, and said to be so)."""
    sample = flow.audience.sample
    if sample is None or sample.margins is None:
        return None
    module, name = WEIGHTED_TOP
    weighted_top: Callable[..., Awaitable[dict[str, TopAnswer] | None]] = getattr(importlib.import_module(module), name)
    return await weighted_top(sessions, record, flow, ids, k=k)


def _unweighted_top(
    flow: Campaign, questions: Mapping[str, QuestionResult], ids: list[str]
) -> dict[str, TopAnswer] | None:
    top: dict[str, TopAnswer] = {}
    for question_id in ids:
        result = questions.get(question_id)
        if result is None or not result.answered:
            return None
        keys = [key for key, _ in answer_rows(flow.question(question_id), flow.default_language)]
        key = max(keys, key=lambda option: result.counts[option])  # among equals, the first offered
        top[question_id] = TopAnswer(key, result.share(key))
    return top
