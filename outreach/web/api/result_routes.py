"""The results endpoint of /api/v1 (aggregated figures per question, and a breakdown by one attribute
with small cells suppressed) and its declaration."""

from __future__ import annotations

from typing import Any

from flows.answer_labels import answer_rows, question_types
from outreach.campaigns.recruitment import RECRUITED_VIA
from outreach.participation.reports import campaign_participation
from outreach.results.free_text import free_text_results
from outreach.results.unweighted import question_figures
from outreach.results.weighted import weighted_results
from outreach.results.weighted_models import WeightedResults
from outreach.web.api.disclosure import QuestionShape, protected_groups
from outreach.web.api.errors import ApiError
from outreach.web.api.models import Breakdown, CampaignResults, ResultsQuery
from outreach.web.api.public_attributes import published_meter_splits
from outreach.web.api.registry import ApiRoute, Call
from outreach.web.api.weighting import WEIGHTS_CANNOT_BE_MADE, api_weighted, check_dimensions, weighting_request
from storage.db import read_session
from storage.read_models import CampaignResults as UnweightedResults
from storage.read_models import QuestionResult, campaign_results, campaign_results_by


def small_cell_k(call: Call) -> int:
    return call.services.settings.small_cell_k


def _totals(figures: UnweightedResults | None, weighted: WeightedResults | None) -> dict[str, Any]:
    """Residents asked, respondents and the response rate, from whichever pass ran."""
    if figures is not None:
        return {
            "contacted": figures.contacted,
            "respondents": figures.respondents,
            "response_rate": figures.response_rate,
        }
    assert weighted is not None
    rate = weighted.respondents / weighted.contacted if weighted.contacted else 0.0
    return {"contacted": weighted.contacted, "respondents": weighted.respondents, "response_rate": rate}


async def campaign_results_endpoint(call: Call) -> CampaignResults:
    query = call.query_as(ResultsQuery)
    record = call.record
    assert record.id is not None
    flow = call.services.definitions.flow(record)
    # How a respondent was recruited (import or self-enrolment) is the service's own fact, not personal
    # data: results split on it whatever the allowlist says, so self-selected answers can be told apart.
    allowed = list(dict.fromkeys(["language", RECRUITED_VIA, *call.services.settings.export_attributes]))
    weighted = None
    if query.weights is not None:
        request = weighting_request(
            query.weights, query.by, query.trim, call.services.settings, collapse=query.collapse, thin=query.thin
        )
        weighted = await api_weighted(
            weighted_results(call.services.sessions, record, flow, request, k=small_cell_k(call))
        )
        check_dimensions(weighted.by, call.services.settings)  # the margins' own, when `by` named none
        query = query.model_copy(update={"by": None})  # `by` named the dimensions weighted on
    elif query.trim is not None or query.collapse is not None or query.thin is not None:
        raise ApiError(
            400, "invalid_parameter", "trim, collapse and thin weight results: name the margins with `weights`"
        )
    if query.by is not None and query.by not in allowed:
        raise ApiError(
            400, "invalid_parameter", f"cannot break results down by '{query.by}'; use one of {', '.join(allowed)}"
        )
    kinds = question_types(flow)
    language = flow.default_language
    async with read_session(call.services.sessions) as session:
        # With weights, the weighted figures carry each answer's count and unweighted share: no second pass.
        figures = await campaign_results(session, record.id, kinds) if weighted is None else None
        groups = await campaign_results_by(session, record.id, kinds, query.by) if query.by else None
    breakdown = None
    if groups is not None and query.by is not None:
        k = small_cell_k(call)
        shapes = [
            QuestionShape(
                question.id,
                question.type,
                [] if question.type in ("number", "text") else [key for key, _ in answer_rows(question, language)],
            )
            for question in flow.questions
        ]
        breakdown = Breakdown(by=query.by, k=k, groups=protected_groups(groups, shapes, k))
    return CampaignResults(
        campaign=record.slug,
        **_totals(figures, weighted),
        questions=[]
        if figures is None
        else [
            question_figures(question, figures.questions.get(question.id) or QuestionResult(question.id), language)
            for question in flow.questions
        ],
        breakdown=breakdown,
        weighted=weighted,
        free_text=await free_text_results(call.services.sessions, record, flow),
        participation=await campaign_participation(
            call.services.sessions,
            record,
            flow,
            k=small_cell_k(call),
            splits=published_meter_splits(call.services.settings),
        ),
    )


RESULT_ROUTES: list[ApiRoute] = [
    ApiRoute(
        "GET",
        "/campaigns/{campaign_id}/results",
        campaign_results_endpoint,
        "getResults",
        "Aggregated results per question",
        "answers",
        scope="responses:read",
        query=ResultsQuery,
        response=CampaignResults,
        extra_errors={422: WEIGHTS_CANNOT_BE_MADE},
        description="With `by`, a breakdown per value of that attribute in which every cell of fewer"
        " than k respondents (and whatever would let one be worked out) is suppressed. With `weights`,"
        " the results weighted to those margins under `weighted` (by the dimensions `by` names).",
    ),
]
