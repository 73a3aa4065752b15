"""`outreach export CAMPAIGN`: every answer as CSV or JSON Lines (or the data dictionary), streamed."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from outreach.cli.runner import fail, run_with_services
from outreach.cli.weighting import (
    BY_OPTION,
    COLLAPSE_OPTION,
    THIN_OPTION,
    TRIM_OPTION,
    WEIGHTS_OPTION,
    respondent_weights,
    weighting_request,
)

if TYPE_CHECKING:
    from outreach.bootstrap import Services
    from outreach.results.exports import ExportKind


class ExportFormat(StrEnum):
    csv = "csv"
    jsonl = "jsonl"
    flow_results = "flow-results"


def export(
    campaign: Annotated[str, typer.Argument(help="Campaign id or slug.")],
    format: Annotated[
        ExportFormat, typer.Option("--format", help="csv, jsonl or flow-results (see docs/API.md).")
    ] = ExportFormat.csv,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File; standard output if omitted.")] = None,
    dictionary: Annotated[
        bool, typer.Option("--dictionary", help="Print the data dictionary (questions, options, fields) instead.")
    ] = False,
    weights: Annotated[str | None, WEIGHTS_OPTION] = None,
    by: Annotated[str | None, BY_OPTION] = None,
    trim: Annotated[float | None, TRIM_OPTION] = None,
    collapse: Annotated[list[str] | None, COLLAPSE_OPTION] = None,
    thin: Annotated[str | None, THIN_OPTION] = None,
) -> None:
    """Every answer, with pseudonymous respondent ids and non-identifying attributes only; with
    --weights, a last column `weight` (the respondent's weight; --dictionary then describes it)."""
    from outreach import audit
    from outreach.audit import Actor
    from outreach.campaigns.commands import find_campaign
    from outreach.cli.flow_results import write_flow_results
    from outreach.results.dictionary import data_dictionary
    from outreach.results.exports import export_chunks

    request = weighting_request(weights, by, trim, collapse, thin)
    if format is ExportFormat.flow_results:
        if request is not None or dictionary:
            raise fail("--weights and --dictionary are for csv and jsonl; a Flow Results package has neither")
        run_with_services(lambda services: write_flow_results(services, campaign, output))
        return
    kind: ExportKind = "csv" if format is ExportFormat.csv else "jsonl"

    async def work(services: Services) -> None:
        record = await find_campaign(services.sessions, campaign)
        flow = services.definitions.flow(record)
        details: dict[str, audit.DetailValue] = {
            "format": "dictionary" if dictionary else kind,
            "weights": weights if request is not None else None,
        }
        await audit.record_apart(
            services.sessions, Actor.cli(), audit.EXPORT, "campaign", record.id, details, at=services.clock()
        )
        respondents = None
        if request is not None and not dictionary:
            respondents = await respondent_weights(services.sessions, record, request)
        attributes = services.settings.export_attributes
        sink = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
        try:
            if dictionary:
                described = data_dictionary(flow, attributes, campaign=record.slug, weighting=request)
                sink.write(json.dumps(described, ensure_ascii=False, indent=2))
                sink.write("\n")
                return
            precision = services.settings.row_time_precision
            lines = export_chunks(
                services.sessions, record, flow, attributes, kind, time_precision=precision, weights=respondents
            )
            async for line in lines:
                sink.write(line)
        finally:
            if output:
                sink.close()

    run_with_services(work)
