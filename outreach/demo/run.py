"""`outreach demo` from start to end, within a minute: the stand-ins up, the service configured and
migrated, the simulated residents imported, the example campaign created and launched, the crowd
answering while the board shows progress, then the results, the usual-suspects meter and how to look at them again.
Before its own campaign the crowd gets a history of earlier consultations (outreach.demo.history), so
that the meter has more than one campaign to read."""

from __future__ import annotations

import shlex
import socket
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web
from rich.console import Console
from rich.markup import escape

from flows.campaign import Campaign
from outreach.bootstrap import Services, bootstrap
from outreach.campaigns.commands import create_campaign, launch_campaign
from outreach.campaigns.fatigue import fatigue_of
from outreach.campaigns.residents_import import import_residents
from outreach.clock import AcceleratedClock
from outreach.demo.board import watch
from outreach.demo.crowd import Crowd
from outreach.demo.example import EXAMPLE, audience_districts, load_example
from outreach.demo.history import EARLIER, record_history
from outreach.demo.providers import Providers, provider_logs_silenced, stand_ins
from outreach.demo.residents import (
    PERSONA_LABELS,
    Persona,
    SimResident,
    living_in,
    simulate_residents,
    write_residents_csv,
)
from outreach.demo.service import DEMO_SPEED, DEMO_START, demo_settings, fresh_database, sqlite_url
from outreach.inbound.enrolment import District, load_districts
from outreach.logs import quiet_third_party_logs
from outreach.officials.accounts import AccountPolicy, add_official
from outreach.participation.reports import campaign_participation
from outreach.participation.views import meter_view
from outreach.results.terminal_view import campaign_results_view
from outreach.web.admin.paths import password_link
from outreach.web.app import create_app
from storage.migrate import upgrade

TIME_LIMIT_SECONDS = 50.0  # from the start of the demo, set-up included: it ends within a minute

DEMO_OFFICIAL = "demo@gdansk.example.org"
DEMO_SERVE_URL = "http://127.0.0.1:8080"  # where `make demo-serve` answers


async def run_demo(console: Console, *, residents: int, database: Path, seed: int) -> None:
    deadline = time.monotonic() + TIME_LIMIT_SECONDS
    quiet_third_party_logs()
    with provider_logs_silenced():
        database = fresh_database(database)
        async with stand_ins() as (providers, sock):
            await simulate(
                console, providers, sock, residents=residents, database=database, seed=seed, deadline=deadline
            )


async def simulate(
    console: Console,
    providers: Providers,
    sock: socket.socket,
    *,
    residents: int,
    database: Path,
    seed: int,
    deadline: float,
) -> None:
    clock = AcceleratedClock(DEMO_START, DEMO_SPEED)
    services = bootstrap(demo_settings(database, providers), clock=clock)
    try:
        await upgrade(services.engine, keyring=services.keyring)
        flow = load_example()
        districts = load_districts()
        audience = audience_districts(flow, districts)
        people = simulate_residents(
            residents, seed=seed, districts=districts, audience=audience, age_bands=services.settings.age_bands
        )
        describe_crowd(console, people, audience, seed)
        await import_crowd(services, people, console)
        await recall_history(services, people, console, seed)
        # The residents' privacy link names where `make demo-serve` answers, not the free port the demo's
        # own server listens on while it runs: it works after the demo, and is the same in every run (so
        # `make screenshots`, which shows it, does not change its pictures each time).
        notice = replace(services.settings.privacy_notice(), url=f"{DEMO_SERVE_URL}/privacy")
        record = await create_campaign(services.sessions, flow, clock=services.clock, notice=notice)
        console.print(f"Campaign [bold]{escape(record.slug)}[/] created from {EXAMPLE}.")
        describe_channels(console, services, providers, flow, living_in(people, audience))
        campaign_id = await consult(
            services, providers, sock, clock, flow, people, record.slug, console, deadline=deadline
        )
        console.print()
        console.print(await campaign_results_view(services.sessions, campaign_id, flow))
        part = await campaign_participation(services.sessions, record, flow, k=services.settings.small_cell_k)
        console.print(meter_view(part.meter))  # who of the crowd answered: the usual suspects, or new voices
        # An official for the pages, with the wall clock: the link is used after the demo, in real time.
        token = await add_official(
            services.sessions, DEMO_OFFICIAL, "admin", now=datetime.now(UTC), policy=AccountPolicy()
        )
        print_next_steps(console, database, record.slug, password_link(DEMO_SERVE_URL, token))
    finally:
        await services.close()


def describe_crowd(console: Console, people: Sequence[SimResident], audience: Sequence[District], seed: int) -> None:
    asked = living_in(people, audience)
    where = escape(" and ".join(sorted(d.name for d in audience)))
    console.print(
        f"Simulating {len(people)} residents of Gdańsk (seed {seed}): {len(asked)} live in {where},"
        f" where the campaign asks; {len(people) - len(asked)} elsewhere."
    )
    personas = Counter(p.persona for p in asked)
    console.print("Of those asked: " + ", ".join(f"{personas[p]} {PERSONA_LABELS[p]}" for p in Persona) + ".")


def describe_channels(
    console: Console, services: Services, providers: Providers, flow: Campaign, asked: Sequence[SimResident]
) -> None:
    """Which provider asks whom: the campaign's first channel the resident has an address for."""
    order = [kind for kind in flow.channels if kind in services.channels]
    kinds = Counter(next((k for k in order if k in dict(p.addresses)), "none") for p in asked)
    console.print(
        f"Channels, in the campaign's order {', '.join(flow.channels)}: SMS through the Twilio adapter (the"
        f" twilio SDK) to a Twilio API stand-in at {providers.twilio.base_url}, Telegram through"
        f" python-telegram-bot to a Bot API stand-in at {providers.telegram.base_url}. Of those asked,"
        f" {kinds['sms']} get SMS and {kinds['telegram']} Telegram.",
        highlight=False,
    )
    with_email = sum(1 for p in asked if p.email)
    console.print(
        f"Email is off (no mail settings): the {with_email} of them who also gave an email address are asked by"
        " SMS or Telegram; email joins as the third channel when mail settings are given.",
        highlight=False,
    )


async def import_crowd(services: Services, people: Sequence[SimResident], console: Console) -> None:
    with tempfile.TemporaryDirectory(prefix="outreach-demo-") as folder:
        path = Path(folder) / "residents.csv"
        write_residents_csv(people, path)
        report = await import_residents(
            services.sessions,
            path,
            region=services.settings.default_region,
            clock=services.clock,
            age_bands=services.settings.age_bands,
            pseudonym_secret=services.settings.pseudonym_key(),
        )
    if report.errors:  # a bug in the simulation, not the visitor's problem; messages hold no addresses
        raise RuntimeError(f"the simulated residents file was refused: {report.errors[0]}")
    console.print(f"Imported {report.created} residents through the residents file import.")


async def recall_history(services: Services, people: Sequence[SimResident], console: Console, seed: int) -> None:
    history = await record_history(services.sessions, people, launched=DEMO_START.astimezone(UTC), seed=seed)
    answered = ", ".join(f"{slug} {count}" for slug, count in history.answered.items())
    console.print(
        f"Their history: {len(EARLIER)} earlier consultations of the whole register, {EARLIER[0].weeks_before} to"
        f" {EARLIER[-1].weeks_before} weeks ago, recorded as they ended (nothing sent now); answered: {answered}.",
        highlight=False,
    )


async def consult(
    services: Services,
    providers: Providers,
    sock: socket.socket,
    clock: AcceleratedClock,
    flow: Campaign,
    people: Sequence[SimResident],
    slug: str,
    console: Console,
    *,
    deadline: float,
) -> int:
    """Serve the app, let the crowd listen, launch, and watch until done; the campaign id."""
    crowd = Crowd(people, flow, providers)
    crowd.listen()
    runner = web.AppRunner(create_app(services), access_log=None)
    await runner.setup()  # opens the channels (getMe) and registers the Telegram webhook
    try:
        await web.SockSite(runner, sock).start()
        if providers.telegram.webhook is None:
            console.print("[yellow]The Telegram webhook was not registered: Telegram residents cannot answer.[/]")
        else:
            console.print(f"Telegram webhook registered: {providers.telegram_webhook}.", highlight=False)
        try:
            # Launched only now, with the service up and the crowd listening, as in real life.
            clock.run()
            report = await launch_campaign(
                services.sessions,
                slug,
                clock=services.clock,
                spread=services.spread,
                fatigue=fatigue_of(services.settings),
            )
            launched_at = f"{DEMO_START:%A %H:%M}"
            console.print(
                f"Launched on {launched_at} (simulated, {DEMO_SPEED / 3600:.0f} h a second):"
                f" {report.conversations_started} conversations started; quiet hours hold them until morning."
            )
            started = time.monotonic()
            done = await watch(services, crowd, report.campaign_id, console, deadline=deadline)
            elapsed = time.monotonic() - started
        finally:
            await crowd.close()
    finally:
        await runner.cleanup()  # stops the dispatcher after the sends in flight
    if done:
        console.print(f"Everyone who was going to answer did, in {elapsed:.1f} s.")
    else:
        limit = f"{TIME_LIMIT_SECONDS:.0f} s for the whole demo"
        console.print(f"Time is up ({limit}); the results show what had arrived by then.")
    delivered = crowd.delivered
    console.print(
        f"Replies delivered: {delivered['sms']} SMS through Twilio's signed webhook; on Telegram"
        f" {delivered['telegram typed']} typed and {delivered['telegram tapped']} button taps.",
        highlight=False,
    )
    if crowd.refused:
        console.print(f"[yellow]{crowd.refused} replies were refused by the webhook.[/]")
    return report.campaign_id


def print_next_steps(console: Console, database: Path, slug: str, official_link: str) -> None:
    setting = f"OUTREACH_DATABASE_URL={shlex.quote(sqlite_url(database))}"
    console.print(f"\nThe demo database is {escape(str(database))}; look at it again with:")
    # The meter over the crowd's history and the demo's campaign; coverage of the register.
    since = (DEMO_START - timedelta(weeks=EARLIER[0].weeks_before)).date()
    participation = f"outreach participation --since {since} --until {DEMO_START.date()}"
    commands = (f"outreach results {slug}", f"outreach export {slug} --format csv", participation, "outreach coverage")
    for command in commands:
        console.print(f"  {setting} {command}", markup=False, highlight=False, soft_wrap=True)
    console.print("\nThe officials' pages on the demo's data: serve them with")
    console.print(
        f"  make demo-serve     (or: {setting} outreach serve)", markup=False, highlight=False, soft_wrap=True
    )
    console.print(f"then open this one-time link to set a password for {DEMO_OFFICIAL} (an admin; valid 24 h):")
    console.print(f"  {official_link}", markup=False, highlight=False, soft_wrap=True)
    console.print(f"and log in at {DEMO_SERVE_URL}/admin/", markup=False, highlight=False)
