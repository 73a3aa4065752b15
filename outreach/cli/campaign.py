"""`outreach campaign validate|create|preview|test-send|launch|request-launch|approve|reject|pause|resume|close|
status`."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from outreach.cli.launch_requests import approve_command, reject_command, request_launch_command
from outreach.cli.runner import console, fail, load_settings, run_with_services, warnings

# Each command imports what it uses when it runs: `campaign --help` loads this module only, and
# `campaign status` none of what a launch or a preview needs (tests/outreach/cli/test_lazy.py).
if TYPE_CHECKING:
    from flows.campaign import Campaign
    from outreach.bootstrap import Services
    from outreach.campaigns.fatigue import Fatigue
    from outreach.campaigns.launches import AudienceProgress, LaunchProgress
    from outreach.campaigns.progress import CampaignProgress
    from outreach.settings import Settings

campaign_app = typer.Typer(no_args_is_help=True, help="Campaigns: validate, create, launch, status.")
campaign_app.command("request-launch")(request_launch_command)
campaign_app.command("approve")(approve_command)
campaign_app.command("reject")(reject_command)


def load_flow(path: Path, *, settings: Settings | None = None) -> Campaign:
    """A campaign file, checked also against this service's senders when `settings` are given."""
    from flows.loader import CampaignFileError, load_campaign_file
    from outreach.campaigns.checks import sender_problems

    try:
        flow = load_campaign_file(path)
    except CampaignFileError as error:
        raise fail(str(error)) from None
    problems = sender_problems(flow, settings) if settings else []
    if problems:
        raise fail("\n".join(f"{path}: {problem}" for problem in problems))
    return flow


@campaign_app.command("validate")
def campaign_validate(file: Annotated[Path, typer.Argument(help="Campaign YAML file.")]) -> None:
    """Check a campaign file; errors point at file:line:column."""
    from outreach.campaigns.checks import campaign_warnings

    flow = load_flow(file, settings=load_settings())
    console.print(f"{file}: ok — {len(flow.questions)} questions in {', '.join(flow.languages)}")
    for warning in campaign_warnings(flow):
        warnings.print(f"{file}: warning: {warning}", markup=False, highlight=False)


@campaign_app.command("preview")
def campaign_preview(
    campaign: Annotated[str, typer.Argument(help="Campaign id or slug, or a campaign file.")],
) -> None:
    """Per channel and language: the exact texts residents will see, SMS segments, and the SMS cost
    for the audience (reminders included)."""

    from rich.table import Table

    from outreach.campaigns.commands import find_campaign
    from outreach.campaigns.fatigue import fatigue_of
    from outreach.campaigns.preview import channel_texts
    from outreach.cli import reminder_lines
    from outreach.cli.results_back_lines import print_results_back_preview
    from outreach.cli.sample_preview import print_sample_plan
    from outreach.survey.sampling import SampleError

    path = Path(campaign)
    from_file = load_flow(path) if path.suffix in (".yaml", ".yml") or path.is_file() else None

    async def work(services: Services) -> None:
        record = None if from_file else await find_campaign(services.sessions, campaign)
        # A file not created yet: as `campaign create` would store it, with the service's privacy notice.
        if record is None:
            assert from_file is not None
            flow = services.settings.privacy_notice().on(from_file)
        else:
            flow = services.definitions.flow(record)
        campaign_id = None if record is None else record.id
        fatigue = fatigue_of(services.settings)
        try:
            preview = await services.audience_preview(flow, campaign_id)
        except SampleError as error:
            raise fail(str(error)) from None
        if preview.plan is not None and flow.audience.sample is not None:
            print_sample_plan(preview.plan, flow.audience.sample, seed=preview.seed, fatigue=fatigue)
        elif preview.held_back:
            console.print(f"Held back by fatigue: {preview.held_back} residents {fatigue.describe()}", markup=False)
        if (reminders := reminder_lines.preview_line(flow)) is not None:
            console.print(reminders, markup=False, highlight=False, soft_wrap=True)
        for channel in flow.channels:
            for language in flow.languages:
                table = Table("message", "text", "SMS" if channel == "sms" else "", title=f"{channel} · {language}")
                for text in channel_texts(flow, channel, language):
                    cost = f"{text.segments.segments} × {text.segments.encoding}" if text.segments else ""
                    table.add_row(text.label, text.text, cost)
                console.print(table)
        if (sms := preview.sms) is not None:
            currency = services.settings.sms_price_currency
            people = sum(sms.residents.values())
            who = "audience" if flow.audience.sample is None else "sample"
            by_language = ", ".join(f"{language} {count}" for language, count in sorted(sms.residents.items()))
            floor = f"{sms.floor_segments} segments ≈ {sms.floor_cost:.2f} {currency}"
            ceiling = f"{sms.ceiling_segments} segments ≈ {sms.ceiling_cost:.2f} {currency}"
            console.print(
                f"SMS {who}: {people} residents ({by_language or 'none'}); from {floor} (opening and reminders"
                f" to all) to {ceiling} (everyone answers everything)"
            )
            if sms.unpriced:
                warnings.print(
                    f"no price for numbers starting {', '.join(sorted(sms.unpriced))}: priced at the highest known"
                    " (set OUTREACH_SMS_PRICES)",
                    markup=False,
                    highlight=False,
                )
        await print_results_back_preview(services, record, flow)

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
    from outreach.campaigns.commands import find_campaign
    from outreach.campaigns.preview import guess_channel
    from outreach.campaigns.trial_sends import send_test

    path = Path(campaign)
    from_file = load_flow(path) if path.suffix in (".yaml", ".yml") or path.is_file() else None
    kind = channel or guess_channel(to)

    async def work(services: Services) -> None:
        if from_file is not None:
            flow = services.settings.privacy_notice().on(from_file)
        else:
            flow = services.definitions.flow(await find_campaign(services.sessions, campaign))
        await services.start_channels()
        sent = await send_test(
            services.channels, flow, channel=kind, language=language or flow.default_language, address=to
        )
        for number, receipt in enumerate(sent, start=1):
            console.print(f"{number}. sent ({receipt.provider_id})")

    run_with_services(work)


@campaign_app.command("create")
def campaign_create(file: Annotated[Path, typer.Argument(help="Campaign YAML file.")]) -> None:
    """Store a campaign as a draft; prints its id and slug."""
    from outreach.audit import Actor
    from outreach.campaigns.commands import create_campaign

    flow = load_flow(file, settings=load_settings())
    source = file.read_text(encoding="utf-8-sig").replace("\r\n", "\n")  # kept, comments and all, for the editor

    async def work(services: Services) -> None:
        notice = services.settings.privacy_notice()
        record = await create_campaign(
            services.sessions, flow, clock=services.clock, actor=Actor.cli(), notice=notice, source=source
        )
        console.print(f"created campaign {record.id} ({record.slug}), status draft")

    run_with_services(work)


@campaign_app.command("launch")
def campaign_launch(campaign: Annotated[str, typer.Argument(help="Campaign id or slug.")]) -> None:
    """Start asking the audience; running it again asks only those not asked yet, and goes on with a
    launch that was cut short."""
    from outreach.audit import Actor
    from outreach.campaigns.commands import campaign_status, find_campaign, launch_campaign
    from outreach.campaigns.fatigue import fatigue_of
    from outreach.campaigns.launches import register_to_go
    from outreach.cli.progress_bars import on_terminal, progress_bar
    from outreach.cli.sample_preview import drawn_lines

    async def work(services: Services) -> None:
        fatigue = fatigue_of(services.settings)
        total = None
        if on_terminal(console):  # piped: no bar, so nothing to count
            total = await register_to_go(services.sessions, await find_campaign(services.sessions, campaign))
        with progress_bar(console, "residents gone through", total) as bar:

            async def show(progress: LaunchProgress) -> None:
                bar.show(progress.scanned, f"{progress.opened} conversations started, {progress.skipped} skipped")

            report = await launch_campaign(
                services.sessions,
                campaign,
                clock=services.clock,
                spread=services.spread,
                pseudonym_secret=services.settings.pseudonym_key(),
                sms_prices=services.settings.sms_prices,
                progress=show,
                fatigue=fatigue,
                actor=Actor.cli(),
                approval_threshold=services.settings.admin_approval_threshold,
            )
        if report.status == "scheduled":
            record = await find_campaign(services.sessions, campaign)
            starts = record.starts_at.isoformat() if record.starts_at else "its start"
            console.print(f"campaign {report.campaign_id} scheduled: `outreach serve` starts it at {starts}")
            return
        skipped = f", {report.skipped} resident{'s' if report.skipped != 1 else ''} skipped" if report.skipped else ""
        why = f" (`campaign status {report.campaign_id}` says why)" if report.skipped else ""
        console.print(
            f"campaign {report.campaign_id} active: {report.conversations_started} conversations started{skipped}{why}",
            soft_wrap=True,
        )
        status = await campaign_status(services.sessions, str(report.campaign_id))
        for line in drawn_lines(status.sample) if status.sample else []:
            console.print(line, markup=False, highlight=False, soft_wrap=True)
        if status.sample is None and report.held_back:
            console.print(held_back_line(report.held_back, fatigue), markup=False, highlight=False, soft_wrap=True)
        if not report.finished:
            console.print(
                "another worker is opening the rest of the audience (`campaign status` shows how far); a running"
                " `outreach serve` finishes it if that worker stopped"
            )

    run_with_services(work)


@campaign_app.command("pause")
def campaign_pause(campaign: Annotated[str, typer.Argument(help="Campaign id or slug.")]) -> None:
    """Send nothing until resumed; replies are still recorded."""
    from outreach.audit import Actor
    from outreach.campaigns.commands import pause_campaign

    async def work(services: Services) -> None:
        record = await pause_campaign(services.sessions, campaign, clock=services.clock, actor=Actor.cli())
        console.print(f"campaign {record.id} paused: nothing is sent until `campaign resume {record.slug}`")

    run_with_services(work)


@campaign_app.command("resume")
def campaign_resume(campaign: Annotated[str, typer.Argument(help="Campaign id or slug.")]) -> None:
    """Send again what waited while paused (still never at night)."""
    from outreach.audit import Actor
    from outreach.campaigns.commands import resume_campaign

    async def work(services: Services) -> None:
        record = await resume_campaign(
            services.sessions, campaign, clock=services.clock, spread=services.spread, actor=Actor.cli()
        )
        console.print(f"campaign {record.id} active again")

    run_with_services(work)


@campaign_app.command("close")
def campaign_close(campaign: Annotated[str, typer.Argument(help="Campaign id or slug.")]) -> None:
    """End it now: nothing more is sent, later answers are not counted."""
    from outreach.audit import Actor
    from outreach.campaigns.commands import close_campaign
    from outreach.cli.results_back_lines import send_results_back_now

    async def work(services: Services) -> None:
        record = await close_campaign(
            services.sessions,
            campaign,
            services.definitions,
            clock=services.clock,
            spread=services.spread,
            actor=Actor.cli(),
        )
        console.print(f"campaign {record.id} closed")
        await send_results_back_now(services)

    run_with_services(work)


@campaign_app.command("status")
def campaign_status_command(
    campaign: Annotated[str | None, typer.Argument(help="Campaign id or slug; all when omitted.")] = None,
    watch: Annotated[
        bool, typer.Option("--watch", help="Follow the sends with a progress bar per channel until idle.")
    ] = False,
    every: Annotated[float, typer.Option(help="Seconds between readings with --watch.", min=0.1)] = 2.0,
) -> None:
    """Status, conversations and messages of a campaign (or a list of all): per channel, messages
    queued, sent, delivered, failed, of unknown outcome, and residents who answered."""
    from rich.table import Table

    from outreach.campaigns.commands import campaign_status
    from outreach.campaigns.fatigue import fatigue_of
    from outreach.campaigns.progress import campaign_progress
    from outreach.campaigns.reminders import reminder_progress
    from outreach.cli import campaign_watch, reminder_lines, unknown_lines
    from outreach.cli.sample_preview import drawn_lines
    from storage.campaigns import CampaignRepository

    async def work(services: Services) -> None:
        if campaign is None:
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
        console.print(_audience(status.audience, status.record.status), markup=False, highlight=False, soft_wrap=True)
        for line in drawn_lines(status.sample) if status.sample else []:
            console.print(line, markup=False, highlight=False, soft_wrap=True)
        if status.sample is None and status.audience.held_back:
            line = held_back_line(status.audience.held_back, fatigue_of(services.settings))
            console.print(line, markup=False, highlight=False, soft_wrap=True)
        console.print("conversations: " + _counts(status.conversations))
        console.print("messages: " + _counts(status.outbox))
        for line in unknown_lines.status_lines(status.unknown_outcomes):
            console.print(line, markup=False, highlight=False, soft_wrap=True)
        campaign_id = status.record.id
        assert campaign_id is not None

        async def read() -> CampaignProgress:
            return await campaign_progress(services.sessions, campaign_id, now=services.clock())

        if watch:
            progress = await campaign_watch.watch(read, lambda: asyncio.sleep(every), console)
        else:
            progress = await read()
            if progress.channels:
                console.print(campaign_watch.progress_table(progress))
        waiting = campaign_watch.waiting_line(progress)
        if waiting:
            console.print(waiting, markup=False, highlight=False, soft_wrap=True)
        flow = services.definitions.flow(status.record)
        if flow.schedule.reminders and status.record.id is not None:
            standing = await reminder_progress(services.sessions, status.record.id, flow)
            console.print(reminder_lines.status_line(flow, standing), markup=False, highlight=False, soft_wrap=True)
        for skip in status.skips:
            console.print(f"skipped {skip.resident}: {skip.reason}", markup=False, highlight=False, soft_wrap=True)
        if status.audience.skipped > len(status.skips):
            console.print(f"… and {status.audience.skipped - len(status.skips)} more skipped")

    run_with_services(work)


def held_back_line(count: int, fatigue: Fatigue) -> str:
    return (
        f"{count} resident{'s' if count != 1 else ''} held back by fatigue ({fatigue.describe()});"
        " `campaign launch` again later asks those the window then allows"
    )


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{key} {value}" for key, value in sorted(counts.items())) or "none"


def _audience(audience: AudienceProgress, status: str) -> str:
    from storage.launches import OPENING

    counts = f"audience: {audience.opened} opened, {audience.skipped} skipped, {audience.remaining} remaining"
    if audience.state is None:
        return counts + " (not launched yet)"
    if audience.state == OPENING and status == "closed":
        return counts + " (closed before the launch reached them)"
    if audience.state == OPENING:
        return counts + " (still opening: a running `outreach serve` finishes it, or `campaign launch` again)"
    return counts
