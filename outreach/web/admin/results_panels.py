"""What the campaign page's live results add to its per-question charts: the results weighted to the
campaign's margins (or why there are none), the response rate over time and by channel and district,
and the free-text groups. Each is read the way the read API reads it (the same builders), so the page
and GET /api/v1/campaigns/{id}/results cannot disagree, and each is a grouped query: a campaign of a
million answers comes back as a few hundred rows."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flows.campaign import Campaign
from outreach.results.free_text import FreeTextQuestion, free_text_results
from outreach.results.weighted import weighted_results
from outreach.results.weighted_models import WeightedResults
from outreach.results.weighting_request import WeightingRequest
from outreach.survey.margins import MarginsError
from outreach.survey.weighting_error import WeightingError
from outreach.web.admin.rate_charts import RateChart, Timeline, rate_charts, timeline
from outreach.web.admin.weighted_charts import WeightedChart, weighted_charts
from storage.db import SessionFactory, read_session
from storage.response_rates import asked_by_hour, first_answers_by_hour, rate_cells
from storage.tables import CampaignRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Weighting:
    """The weighted results, or why the page shows none."""

    margins: str | None  # the campaign's margins (audience.sample.margins); None: it names none
    request: WeightingRequest | None
    results: WeightedResults | None
    charts: list[WeightedChart]
    problem: str | None  # why weights could not be made, as the weighting said it


@dataclass(frozen=True)
class FreeTextPanel:
    text: str  # the question, in the page's language
    figures: FreeTextQuestion


@dataclass(frozen=True)
class ResultsPanels:
    weighting: Weighting
    timeline: Timeline
    rates: list[RateChart]
    free_text: list[FreeTextPanel]


def weighting_of(flow: Campaign) -> WeightingRequest | None:
    """The campaign's own weighting, as its results-back message uses it: to its sample's margins, on its
    strata (none named: every dimension of the margins)."""
    sample = flow.audience.sample
    if sample is None or sample.margins is None:
        return None
    return WeightingRequest(sample.margins, tuple(sample.strata))


async def _weighting(
    sessions: SessionFactory, record: CampaignRecord, flow: Campaign, language: str, k: int
) -> Weighting:
    request = weighting_of(flow)
    if request is None:
        return Weighting(None, None, None, [], None)
    try:
        results = await weighted_results(sessions, record, flow, request, k=k)
    except (MarginsError, WeightingError) as error:
        log.info("campaign %s: the page shows no weighted results: %s", record.id, error)
        return Weighting(request.margins, request, None, [], str(error))
    return Weighting(request.margins, request, results, weighted_charts(flow, results, language), None)


async def results_panels(
    sessions: SessionFactory, record: CampaignRecord, flow: Campaign, language: str, *, k: int
) -> ResultsPanels:
    assert record.id is not None
    async with read_session(sessions) as session:
        cells = await rate_cells(session, record.id)
        asked = await asked_by_hour(session, record.id)
        answered = await first_answers_by_hour(session, record.id)
    language = language if language in flow.languages else flow.languages[0]
    texts = {question.id: question.text[language] for question in flow.questions}
    return ResultsPanels(
        weighting=await _weighting(sessions, record, flow, language, k),
        timeline=timeline(asked, answered),
        rates=rate_charts(cells, k),
        free_text=[
            FreeTextPanel(texts[figures.id], figures) for figures in await free_text_results(sessions, record, flow)
        ],
    )
