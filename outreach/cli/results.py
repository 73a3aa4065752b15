"""`outreach results CAMPAIGN`: per question, the answers counted (or weighted, with --weights), as a
table or JSON."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from outreach.cli.runner import console, run_with_services
from outreach.cli.weighting import (
    BY_OPTION,
    COLLAPSE_OPTION,
    THIN_OPTION,
    TRIM_OPTION,
    WEIGHTS_OPTION,
    weighted_results,
    weighting_request,
)

if TYPE_CHECKING:
    from outreach.bootstrap import Services
    from outreach.results.unweighted import UnweightedResults


class ResultsFormat(StrEnum):
    table = "table"
    json = "json"


def results(
    campaign: Annotated[str, typer.Argument(help="Campaign id or slug.")],
    weights: Annotated[str | None, WEIGHTS_OPTION] = None,
    by: Annotated[str | None, BY_OPTION] = None,
    trim: Annotated[float | None, TRIM_OPTION] = None,
    collapse: Annotated[list[str] | None, COLLAPSE_OPTION] = None,
    thin: Annotated[str | None, THIN_OPTION] = None,
    format: Annotated[
        ResultsFormat, typer.Option("--format", help="table, or json (weighted with --weights).")
    ] = ResultsFormat.table,
) -> None:
    """Per question: answers, counts, shares and bars; the response rate. With --weights: weighted
    shares with 95% margins of error, effective n, design effect, response rate per stratum. --format
    json: the same figures as JSON (without --weights, the API's unweighted figures)."""
    from outreach.campaigns.commands import find_campaign
    from outreach.cli.participation import participation_json
    from outreach.results.free_text import free_text_results
    from outreach.results.free_text_view import free_text_view
    from outreach.results.terminal_view import campaign_results_view
    from outreach.results.unweighted import unweighted_results
    from outreach.results.weighted_models import WeightedResults
    from outreach.results.weighted_view import weighted_results_view

    request = weighting_request(weights, by, trim, collapse, thin)

    async def work(services: Services) -> None:
        record = await find_campaign(services.sessions, campaign)
        assert record.id is not None
        flow = services.definitions.flow(record)
        free_text = await free_text_results(services.sessions, record, flow)  # text questions, scrubbed
        if request is None and format is ResultsFormat.table:
            console.print(await campaign_results_view(services.sessions, record.id, flow))
            console.print(free_text_view(flow, free_text))
            return
        k = services.settings.small_cell_k
        figures: UnweightedResults | WeightedResults
        if request is None:
            figures = await unweighted_results(services.sessions, record, flow)
        else:
            figures = await weighted_results(services.sessions, record, flow, request, k=k)
        if format is ResultsFormat.json:
            output = figures.model_dump(mode="json") | {"free_text": [q.model_dump(mode="json") for q in free_text]}
            output["participation"] = await participation_json(services, record, flow)
            sys.stdout.write(json.dumps(output, ensure_ascii=False, indent=2) + "\n")
        elif isinstance(figures, WeightedResults):
            console.print(weighted_results_view(flow, figures))
            console.print(free_text_view(flow, free_text))

    run_with_services(work)
