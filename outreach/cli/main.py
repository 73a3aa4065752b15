"""The `outreach` command line: what officials and operators type."""

from __future__ import annotations

import asyncio
import csv
import json
import re
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import segno
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from channels.base import SendError
from channels.telegram import TelegramChannel
from flows.campaign import Campaign
from flows.loader import CampaignFileError, load_campaign_file
from outreach.bootstrap import Services
from outreach.campaigns.checks import campaign_warnings, sender_problems
from outreach.campaigns.commands import (
    CampaignCommandError,
    campaign_status,
    close_campaign,
    create_campaign,
    find_campaign,
    launch_campaign,
    pause_campaign,
    resume_campaign,
)
from outreach.campaigns.preview import channel_texts, guess_channel, sms_cost, test_messages
from outreach.campaigns.residents_import import ImportFileError, import_residents
from outreach.cli.runner import console, errors, fail, run_with_services, warnings
from outreach.cli.tokens import tokens_app
from outreach.logs import configure_logging
from outreach.results.exports import export_lines
from outreach.results.terminal_view import campaign_results_view
from outreach.settings import Settings
from outreach.web.api import data_dictionary
from storage.migrate import upgrade

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Ask residents short questions; collect answers.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
residents_app = typer.Typer(no_args_is_help=True, help="Residents and their addresses.")
campaign_app = typer.Typer(no_args_is_help=True, help="Campaigns: validate, create, launch, status.")
app.add_typer(db_app, name="db")
app.add_typer(residents_app, name="residents")
app.add_typer(campaign_app, name="campaign")
app.add_typer(tokens_app, name="token")

ENROL_SOURCE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def load_flow(path: Path, *, settings: Settings | None = None) -> Campaign:
    """A campaign file, checked also against this service's senders when `settings` are given."""
    try:
        flow = load_campaign_file(path)
    except CampaignFileError as error:
        raise fail(str(error)) from None
    problems = sender_problems(flow, settings) if settings else []
    if problems:
        raise fail("\n".join(f"{path}: {problem}" for problem in problems))
    return flow


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind (0 picks a free one).", min=0, max=65535)] = 8080,
) -> None:
    """Run the HTTP service (webhooks, /healthz) with the dispatcher."""
    from outreach.web.server import serve_forever

    settings = Settings()
    configure_logging(settings.log_level)
    asyncio.run(serve_forever(settings, host=host, port=port))


@app.command()
def demo(
    residents: Annotated[int, typer.Option(help="Simulated residents.", min=10, max=1000)] = 300,
    database: Annotated[Path, typer.Option(help="SQLite file, made afresh.")] = Path("outreach-demo.db"),
    seed: Annotated[int, typer.Option(help="Random seed of the simulation.")] = 7,
) -> None:
    """A whole consultation by SMS and Telegram (real adapters, bundled provider stand-ins), with simulated
    residents, in under a minute."""
    from outreach.demo.run import run_demo

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
        if until_idle:
            sent = await services.dispatcher.drain()
            console.print(f"handled {sent} messages")
            return
        await services.dispatcher.run(asyncio.Event(), services.settings.dispatcher_poll_seconds)

    configure_logging(Settings().log_level)
    run_with_services(work)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the schema to the latest version."""

    async def work(services: Services) -> None:
        await upgrade(services.engine)

    run_with_services(work)
    console.print("database is up to date")


@residents_app.command("import")
def residents_import(
    file: Annotated[Path, typer.Argument(help="CSV, UTF-8, header row (see README).")],
    region: Annotated[str | None, typer.Option(help="Region for numbers without +prefix.")] = None,
) -> None:
    """Import or update residents; bad rows are reported by line while good rows go in."""

    async def work(services: Services) -> None:
        with Progress(TextColumn("importing"), BarColumn(), MofNCompleteColumn(), console=console) as bar:
            task = bar.add_task("rows", total=_count_rows(file))
            report = await import_residents(
                services.sessions,
                file,
                region=(region or services.settings.default_region).upper(),
                clock=services.clock,
                on_row=lambda: bar.advance(task),
            )
        console.print(f"{report.created} created, {report.updated} updated, {len(report.errors)} rejected")
        for error in report.errors:
            errors.print(f"{file}:{error}", markup=False, highlight=False)
        if report.errors:
            raise typer.Exit(2)

    try:
        run_with_services(work)
    except ImportFileError as error:
        raise fail(str(error)) from None


def _count_rows(path: Path) -> int | None:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return max(sum(1 for _ in csv.reader(handle)) - 1, 0)
    except (OSError, UnicodeDecodeError, csv.Error):
        return None


@campaign_app.command("validate")
def campaign_validate(file: Annotated[Path, typer.Argument(help="Campaign YAML file.")]) -> None:
    """Check a campaign file; errors point at file:line:column."""
    flow = load_flow(file, settings=Settings())
    console.print(f"{file}: ok — {len(flow.questions)} questions in {', '.join(flow.languages)}")
    for warning in campaign_warnings(flow):
        warnings.print(f"{file}: warning: {warning}", markup=False, highlight=False)


@campaign_app.command("preview")
def campaign_preview(
    campaign: Annotated[str, typer.Argument(help="Campaign id or slug, or a campaign file.")],
) -> None:
    """Per channel and language: the exact texts residents will see, SMS segments, and the SMS cost
    for the audience (reminders included)."""

    path = Path(campaign)
    from_file = load_flow(path) if path.suffix in (".yaml", ".yml") or path.is_file() else None

    async def work(services: Services) -> None:
        flow = from_file or services.definitions.flow(await find_campaign(services.sessions, campaign))
        for channel in flow.channels:
            for language in flow.languages:
                table = Table("message", "text", "SMS" if channel == "sms" else "", title=f"{channel} · {language}")
                for text in channel_texts(flow, channel, language):
                    cost = f"{text.segments.segments} × {text.segments.encoding}" if text.segments else ""
                    table.add_row(text.label, text.text, cost)
                console.print(table)
        if "sms" in flow.channels:
            sms = await sms_cost(services.sessions, flow, services.settings.sms_prices)
            currency = services.settings.sms_price_currency
            people = sum(sms.residents.values())
            by_language = ", ".join(f"{language} {count}" for language, count in sorted(sms.residents.items()))
            floor = f"{sms.floor_segments} segments ≈ {sms.floor_cost:.2f} {currency}"
            ceiling = f"{sms.ceiling_segments} segments ≈ {sms.ceiling_cost:.2f} {currency}"
            console.print(
                f"SMS audience: {people} residents ({by_language or 'none'}); from {floor} (opening and reminders"
                f" to all) to {ceiling} (everyone answers everything)"
            )
            if sms.unpriced:
                warnings.print(
                    f"no price for numbers starting {', '.join(sorted(sms.unpriced))}: priced at the highest known"
                    " (set OUTREACH_SMS_PRICES)",
                    markup=False,
                    highlight=False,
                )

    run_with_services(work)


@campaign_app.command("test-send")
def campaign_test_send(
    campaign: Annotated[str, typer.Argument(help="Campaign id or slug, or a campaign file.")],
    to: Annotated[str, typer.Option("--to", help="Your own address: +48… (SMS), a chat id, an email.")],
    channel: Annotated[str | None, typer.Option(help="sms, whatsapp, telegram or email; guessed from --to.")] = None,
    language: Annotated[
        str | None, typer.Option(help="Language of the texts; the campaign's first by default.")
    ] = None,
) -> None:
    """Send every message of the campaign to one address, marked [TEST]; nothing is stored or counted."""
    path = Path(campaign)
    from_file = load_flow(path) if path.suffix in (".yaml", ".yml") or path.is_file() else None
    kind = channel or guess_channel(to)

    async def work(services: Services) -> None:
        flow = from_file or services.definitions.flow(await find_campaign(services.sessions, campaign))
        chosen = language or flow.default_language
        if chosen not in flow.languages:
            raise CampaignCommandError(f"the campaign has no {chosen} texts; it has {', '.join(flow.languages)}")
        sender = services.channels.get(kind)
        if sender is None:
            raise CampaignCommandError(
                f"channel {kind} is not enabled here ({', '.join(sorted(services.channels))} are)"
            )
        await services.start_channels()
        for number, outbound in enumerate(test_messages(flow, chosen, kind, to), start=1):
            try:
                sent = await sender.send(outbound)
            except SendError as error:
                raise CampaignCommandError(f"message {number} was refused: {error}") from None
            console.print(f"{number}. sent ({sent.provider_id})")

    run_with_services(work)


@campaign_app.command("create")
def campaign_create(file: Annotated[Path, typer.Argument(help="Campaign YAML file.")]) -> None:
    """Store a campaign as a draft; prints its id and slug."""
    flow = load_flow(file, settings=Settings())

    async def work(services: Services) -> None:
        record = await create_campaign(services.sessions, flow, clock=services.clock)
        console.print(f"created campaign {record.id} ({record.slug}), status draft")

    run_with_services(work)


@campaign_app.command("launch")
def campaign_launch(campaign: Annotated[str, typer.Argument(help="Campaign id or slug.")]) -> None:
    """Start asking the audience; running it again asks only those not asked yet."""

    async def work(services: Services) -> None:
        report = await launch_campaign(
            services.sessions,
            campaign,
            clock=services.clock,
            spread=services.spread,
            pseudonym_secret=services.settings.pseudonym_key(),
            sms_prices=services.settings.sms_prices,
        )
        if report.status == "scheduled":
            record = await find_campaign(services.sessions, campaign)
            starts = record.starts_at.isoformat() if record.starts_at else "its start"
            console.print(f"campaign {report.campaign_id} scheduled: `outreach serve` starts it at {starts}")
            return
        console.print(f"campaign {report.campaign_id} active: {report.conversations_started} conversations started")

    run_with_services(work)


@campaign_app.command("pause")
def campaign_pause(campaign: Annotated[str, typer.Argument(help="Campaign id or slug.")]) -> None:
    """Send nothing until resumed; replies are still recorded."""

    async def work(services: Services) -> None:
        record = await pause_campaign(services.sessions, campaign, clock=services.clock)
        console.print(f"campaign {record.id} paused: nothing is sent until `campaign resume {record.slug}`")

    run_with_services(work)


@campaign_app.command("resume")
def campaign_resume(campaign: Annotated[str, typer.Argument(help="Campaign id or slug.")]) -> None:
    """Send again what waited while paused (still never at night)."""

    async def work(services: Services) -> None:
        record = await resume_campaign(services.sessions, campaign, clock=services.clock, spread=services.spread)
        console.print(f"campaign {record.id} active again")

    run_with_services(work)


@campaign_app.command("close")
def campaign_close(campaign: Annotated[str, typer.Argument(help="Campaign id or slug.")]) -> None:
    """End it now: nothing more is sent, later answers are not counted."""

    async def work(services: Services) -> None:
        record = await close_campaign(
            services.sessions, campaign, services.definitions, clock=services.clock, spread=services.spread
        )
        console.print(f"campaign {record.id} closed")

    run_with_services(work)


@campaign_app.command("status")
def campaign_status_command(
    campaign: Annotated[str | None, typer.Argument(help="Campaign id or slug; all when omitted.")] = None,
) -> None:
    """Status, conversations and messages of a campaign (or a list of all)."""

    async def work(services: Services) -> None:
        if campaign is None:
            from storage.campaigns import CampaignRepository

            async with services.sessions() as session:
                records = await CampaignRepository(session).all()
            table = Table("id", "slug", "status", "name")
            for record in records:
                table.add_row(str(record.id), record.slug, record.status, record.name)
            console.print(table)
            return
        status = await campaign_status(services.sessions, campaign)
        because = f" ({status.record.paused_because})" if status.record.paused_because else ""
        console.print(f"campaign {status.record.id} ({status.record.slug}): {status.record.status}{because}")
        if status.record.spent:
            console.print(f"spent on SMS: {status.record.spent:.2f} {services.settings.sms_price_currency}")
        console.print("conversations: " + _counts(status.conversations))
        console.print("messages: " + _counts(status.outbox))

    run_with_services(work)


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{key} {value}" for key, value in sorted(counts.items())) or "none"


@app.command()
def results(campaign: Annotated[str, typer.Argument(help="Campaign id or slug.")]) -> None:
    """Per question: answers, counts, shares and bars; the response rate."""

    async def work(services: Services) -> None:
        record = await find_campaign(services.sessions, campaign)
        assert record.id is not None
        flow = services.definitions.flow(record)
        console.print(await campaign_results_view(services.sessions, record.id, flow))

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
) -> None:
    """Every answer, with pseudonymous respondent ids and non-identifying attributes only."""

    async def work(services: Services) -> None:
        record = await find_campaign(services.sessions, campaign)
        flow = services.definitions.flow(record)
        attributes = services.settings.export_attributes
        sink = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
        try:
            if dictionary:
                sink.write(
                    json.dumps(data_dictionary(flow, attributes, campaign=record.slug), ensure_ascii=False, indent=2)
                )
                sink.write("\n")
                return
            async for line in export_lines(services.sessions, record, flow, attributes, format.value):
                sink.write(line)
        finally:
            if output:
                sink.close()

    run_with_services(work)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
