"""`outreach coverage [--margins NAME]` and `outreach participation --since DAY --until DAY`: who is
(not) being heard, as a table or JSON (the API's and the results' JSON)."""

from __future__ import annotations

import sys
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from outreach.cli.runner import console, fail, run_with_services
from outreach.survey.margins import DEFAULT_MARGINS

if TYPE_CHECKING:
    from flows.campaign import Campaign
    from outreach.bootstrap import Services
    from storage.tables import CampaignRecord


class FiguresFormat(StrEnum):
    table = "table"
    json = "json"


FORMAT_OPTION = typer.Option("--format", help="table or json.")


def coverage(
    margins: Annotated[
        str, typer.Option("--margins", help="Population margins (`outreach margins list`).")
    ] = DEFAULT_MARGINS,
    format: Annotated[FiguresFormat, FORMAT_OPTION] = FiguresFormat.table,
) -> None:
    """Per stratum of the margins: residents reachable and consented on each channel as a share of the
    population, thinnest first; per recruitment source, how many residents it brought into which strata."""
    from outreach.participation.reports import coverage_report
    from outreach.participation.views import coverage_view
    from outreach.survey.margins import MarginsError

    async def work(services: Services) -> None:
        try:
            figures = await coverage_report(services.sessions, margins, k=services.settings.small_cell_k)
        except MarginsError as error:
            raise fail(str(error)) from None
        if format is FiguresFormat.json:
            sys.stdout.write(figures.model_dump_json(indent=2) + "\n")
        else:
            console.print(coverage_view(figures))

    run_with_services(work)


async def participation_json(services: Services, record: CampaignRecord, flow: Campaign) -> dict[str, Any]:
    """The campaign's part of `outreach results --format json`: its first-timers and its respondents'
    history (the meter), and its answers from the sampled beside the self-enrolled."""
    from outreach.participation.reports import campaign_participation

    k = services.settings.small_cell_k
    return (await campaign_participation(services.sessions, record, flow, k=k)).model_dump(mode="json")


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise fail(f"{option} must be a day like 2027-01-31, not {text!r}") from None


def participation(
    since: Annotated[str, typer.Option("--since", help="First day (UTC) of the campaigns' launch, YYYY-MM-DD.")],
    until: Annotated[str, typer.Option("--until", help="Last day (UTC), included, YYYY-MM-DD.")],
    format: Annotated[FiguresFormat, FORMAT_OPTION] = FiguresFormat.table,
) -> None:
    """The usual-suspects meter over the campaigns launched in a range: the share of answers given by the
    most active 1% and 10% of respondents, the Gini of answers per resident and the first-timers of each
    campaign, split by channel, district and recruitment source (small groups withheld)."""
    from outreach.participation.reports import participation_report
    from outreach.participation.views import meter_view

    first, last = _day(since, "--since"), _day(until, "--until")
    if first > last:
        raise fail(f"--since {first} is after --until {last}")

    async def work(services: Services) -> None:
        figures = await participation_report(services.sessions, first, last, k=services.settings.small_cell_k)
        if format is FiguresFormat.json:
            sys.stdout.write(figures.model_dump_json(indent=2) + "\n")
        else:
            console.print(meter_view(figures))

    run_with_services(work)
