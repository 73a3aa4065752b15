"""A campaign's top answers for its results-back message, weighted to its margins by its sample's
strata. Apart from outreach.results.results_back_figures because it brings numpy: that module imports
this one by name only when a campaign with margins tells its results (issue 18: a command's start-up)."""

from __future__ import annotations

import logging

from flows.campaign import Campaign
from outreach.results.results_back_figures import TopAnswer
from outreach.results.weighted import weighted_results
from outreach.results.weighting_request import WeightingRequest
from outreach.survey.margins import MarginsError
from outreach.survey.weighting_error import WeightingError
from storage.db import SessionFactory
from storage.tables import CampaignRecord

log = logging.getLogger(__name__)


async def weighted_top(
    sessions: SessionFactory, record: CampaignRecord, flow: Campaign, ids: list[str], *, k: int
) -> dict[str, TopAnswer] | None:
    """Top answers weighted to the campaign's margins; None without margins, or when weights cannot be
    made (then the unweighted figures are told, and said to be so)."""
    sample = flow.audience.sample
    if sample is None or sample.margins is None:
        return None
    request = WeightingRequest(sample.margins, tuple(sample.strata))
    try:
        results = await weighted_results(sessions, record, flow, request, k=k)
    except (MarginsError, WeightingError) as error:
        log.warning("campaign %s: results back unweighted: %s", record.id, error)
        return None
    top: dict[str, TopAnswer] = {}
    for question in results.questions:
        if question.id not in ids:
            continue
        shares = [(value.value, value.weighted_share) for value in question.values or [] if value.weighted_share]
        if not shares:
            return None
        key, share = max(shares, key=lambda item: item[1])  # among equals, the first offered
        top[question.id] = TopAnswer(key, share)
    return top
