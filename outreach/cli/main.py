"""The `outreach` command line: what officials and operators type."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import segno
import typer

from channels.telegram import TelegramChannel
from outreach.bootstrap import Services, announce_channels
from outreach.campaigns.commands import (
    CampaignCommandError,
    find_campaign,
)
from outreach.cli.campaign import campaign_app
from outreach.cli.db import db_app
from outreach.cli.margins import margins_app
from outreach.cli.participation import coverage, participation, participation_json
from outreach.cli.residents import residents_app
from outreach.cli.runner import console, fail, load_settings, run_with_services
from outreach.cli.tokens import tokens_app
from outreach.cli.webhooks import print_webhooks
from outreach.cli.weighting import (
    BY_OPTION,
    COLLAPSE_OPTION,
    THIN_OPTION,
    TRIM_OPTION,
    WEIGHTS_OPTION,
    weighted_or_fail,
    weighting_request,
)
from outreach.demo.run import run_demo
from outreach.logs import configure_logging
from outreach.results.dictionary import data_dictionary
from outreach.results.exports import export_lines
from outreach.results.free_text import free_text_results
from outreach.results.free_text_view import free_text_view
from outreach.results.terminal_view import campaign_results_view
from outreach.results.unweighted import UnweightedResults, unweighted_results
from outreach.results.weighted import respondent_weights, weighted_results
from outreach.results.weighted_models import WeightedResults
from outreach.results.weighted_view import weighted_results_view
from outreach.web.server import serve_forever

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Ask residents short questions; collect answers.")
app.add_typer(db_app, name="db")
app.add_typer(residents_app, name="residents")
app.add_typer(campaign_app, name="campaign")
app.add_typer(margins_app, name="margins")
app.add_typer(tokens_app, name="token")
app.command("webhooks")(print_webhooks)
app.command("coverage")(coverage)
app.command("participation")(participation)

ENROL_SOURCE = re.compile(r"[A-Za-z0-9_-]{1,64}")


@app.command()
def serve(
    host: Annotated[
        str | None,
        typer.Option(help="Interface to bind; default OUTREACH_HOST, else 127.0.0.1 (development) or 0.0.0.0."),
    ] = None,
    port: Annotated[int, typer.Option(help="Port to bind (0 picks a free one).", min=0, max=65535)] = 8080,
) -> None:
    """Run the HTTP service (webhooks, /healthz) with the dispatcher."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    asyncio.run(serve_forever(settings, host=host, port=port))


@app.command()
def demo(
    residents: Annotated[int, typer.Option(help="Simulated residents.", min=10, max=1000)] = 300,
    database: Annotated[Path, typer.Option(help="SQLite file, made afresh.")] = Path("outreach-demo.db"),
    seed: Annotated[int, typer.Option(help="Random seed of the simulation.")] = 7,
) -> None:
    """A whole consultation by SMS and Telegram (real adapters, bundled provider stand-ins), with simulated
    residents, in under a minute."""
    asyncio.run(run_demo(console, residents=residents, database=database, seed=seed))


@app.command("enrol-link")
def enrol_link(
    source: Annotated[str, typer.Argument(help="Where the code hangs, e.g. bus-stop-12 (A-Z a-z 0-9 _ -).")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="QR code PNG; enrol-SOURCE.png.")] = None,
    bot: Annotated[str | None, typer.Option(help="The bot's username; asked from Telegram when omitted.")] = None,
) -> None:
    """Print the Telegram link residents join by, and write it as a QR code for a poster."""
    if not ENROL_SOURCE.fullmatch(source):
        raise fail(f"source '{source}' must be 1-64 of A-Z a-z 0-9 _ - (Telegram's deep-link rule)")
    target = output or Path(f"enrol-{source}.png")

    async def work(services: Services) -> str:
        channel = services.channels.get("telegram")
        if bot:
            return bot
        if not isinstance(channel, TelegramChannel):
            raise CampaignCommandError("Telegram is not configured: set OUTREACH_TELEGRAM_BOT_TOKEN, or give --bot")
        await channel.start()
        if channel.username is None:
            raise CampaignCommandError("Telegram did not say the bot's username; give --bot")
        return channel.username

    username = run_with_services(work).lstrip("@")
    link = f"https://t.me/{username}?start={source}"
    segno.make(link, error="m").save(str(target), scale=10, border=4)
    console.print(link)
    console.print(f"QR code written to {target}")


@app.command()
def dispatch(
    until_idle: Annotated[bool, typer.Option("--until-idle", help="Exit once nothing is due.")] = False,
) -> None:
    """Run only the outbox dispatcher (a worker without HTTP)."""

    async def work(services: Services) -> None:
        announce_channels(services)
        if until_idle:
            sent = await services.dispatcher.drain()
            console.print(f"handled {sent} messages")
            return
        await services.dispatcher.run(asyncio.Event(), services.settings.dispatcher_poll_seconds)

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    run_with_services(work)


class ResultsFormat(StrEnum):
    table = "table"
    json = "json"


@app.command()
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
            figures = await weighted_or_fail(weighted_results(services.sessions, record, flow, request, k=k))
        if format is ResultsFormat.json:
            output = figures.model_dump(mode="json") | {"free_text": [q.model_dump(mode="json") for q in free_text]}
            output["participation"] = await participation_json(services, record, flow)
            sys.stdout.write(json.dumps(output, ensure_ascii=False, indent=2) + "\n")
        elif isinstance(figures, WeightedResults):
            console.print(weighted_results_view(flow, figures))
            console.print(free_text_view(flow, free_text))

    run_with_services(work)


class ExportFormat(StrEnum):
    csv = "csv"
    jsonl = "jsonl"


@app.command()
def export(
    campaign: Annotated[str, typer.Argument(help="Campaign id or slug.")],
    format: Annotated[ExportFormat, typer.Option("--format", help="csv or jsonl.")] = ExportFormat.csv,
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
    request = weighting_request(weights, by, trim, collapse, thin)

    async def work(services: Services) -> None:
        record = await find_campaign(services.sessions, campaign)
        flow = services.definitions.flow(record)
        respondents = None
        if request is not None and not dictionary:
            respondents = await weighted_or_fail(respondent_weights(services.sessions, record, request))
        attributes = services.settings.export_attributes
        sink = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
        try:
            if dictionary:
                described = data_dictionary(flow, attributes, campaign=record.slug, weighting=request)
                sink.write(json.dumps(described, ensure_ascii=False, indent=2))
                sink.write("\n")
                return
            precision = services.settings.row_time_precision
            lines = export_lines(
                services.sessions, record, flow, attributes, format.value, time_precision=precision, weights=respondents
            )
            async for line in lines:
                sink.write(line)
        finally:
            if output:
                sink.close()

    run_with_services(work)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
