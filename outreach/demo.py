"""`outreach demo`: a whole consultation on the sandbox channels, with simulated residents.

Only the residents are simulated; everything else runs the service's real paths. They come in through
the CSV import officials use, the example campaign is created and launched as from the CLI, the HTTP
app and its dispatcher send through the sandbox channels, and replies arrive as signed POSTs to the
sandbox webhook, the way a provider delivers them. No credentials, no network beyond 127.0.0.1.

Personal data rule: addresses are generated from fictional ranges and still never printed.
"""

from __future__ import annotations

import asyncio
import csv
import itertools
import random
import secrets
import shlex
import tempfile
import time
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web
from pydantic import SecretStr
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from channels.base import Choice, Outbound
from channels.sandbox import SECRET_HEADER
from flows.loader import load_campaign, load_campaign_file
from flows.model import Campaign, Question
from outreach.app import create_app
from outreach.bootstrap import Services, bootstrap
from outreach.campaigns import create_campaign, launch_campaign
from outreach.clock import AcceleratedClock
from outreach.logs import quiet_third_party_logs
from outreach.residents_import import import_residents
from outreach.results_view import campaign_results_view
from outreach.settings import Settings
from storage.campaigns import ConversationRepository
from storage.db import read_session
from storage.migrate import upgrade
from storage.outbox import OutboxRepository

T = TypeVar("T")

EXAMPLE = "park_orunski.yaml"
EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"
# outreach/data/gdansk_districts.csv is a copy of ../shared/data/gdansk_districts.csv: public figures
# (the 35 districts of Gdańsk and their population; see shared/data/README.md for the source). It is
# packaged, with a copy of the example campaign, so the demo also runs from an installed wheel.
DISTRICTS_FILE = "gdansk_districts.csv"

# The example asks two districts (8% of the city): most simulated residents live there, so that a few
# hundred are asked; the rest spread over the city by population and show the audience filter at work.
AUDIENCE_SHARE = 0.85
SANDBOX_LATENCY_MS = 20  # a provider's round trip, small enough to finish well within a minute
DISPATCHER_POLL_SECONDS = 0.05  # the next question goes out right after an answer, not a second later
REFRESH_SECONDS = 0.25
TIME_LIMIT_SECONDS = 50.0  # from the start of the demo, set-up included: it ends within a minute
# Simulated time: launched on a Tuesday evening in Gdańsk, after quiet hours began, at two simulated
# hours per real second: the night hold (till 08:00), the reminder (24 h) and the end of the answer
# window (48 h) all show within the minute.
DEMO_START = datetime(2027, 3, 2, 21, 30, tzinfo=ZoneInfo("Europe/Warsaw"))
DEMO_SPEED = 7200.0
LIFECYCLE_INTERVAL_SECONDS = 0.2  # real seconds: 24 simulated minutes
WEBHOOK_ATTEMPTS = 3  # a provider retries a 503 (store busy); the provider id makes the retry safe

CSV_FIELDS = (
    "phone",
    "email",
    "telegram_chat_id",
    "language",
    "district",
    "age_band",
    "sex",
    "consent_source",
    "consent_at",
)
CONSENT_SOURCE = "outreach demo (simulated resident)"
CONSENT_AT = "2026-01-15T09:00:00+01:00"

# Rough shares for a believable crowd; only sex comes from published figures (shared/data/README.md).
LANGUAGE_SHARES = {"pl": 0.86, "uk": 0.09, "en": 0.05}
AGE_BAND_SHARES = {"18-24": 8, "25-34": 17, "35-44": 19, "45-54": 15, "55-64": 14, "65+": 27}
SEX_SHARES = {"female": 52.7, "male": 47.3}
ADDRESS_SHARES: dict[tuple[str, ...], float] = {
    ("phone",): 0.72,
    ("phone", "email"): 0.06,
    ("email",): 0.13,
    ("telegram",): 0.09,
}
# Made-up opinions for the example's option keys; keys of another campaign weigh 1.
OPINIONS = {
    "yes": 3.0,
    "no": 2.0,
    "lighting": 4.0,
    "benches": 2.0,
    "playground": 3.0,
    "cleanliness": 3.0,
    "too_far": 2.0,
    "no_time": 4.0,
    "unsafe": 3.0,
    "didnt_know": 2.0,
}


class Persona(StrEnum):
    ANSWERS = "answers"
    MISTYPES = "mistypes"
    DROPS_OUT = "drops out"
    SILENT = "silent"
    LATE = "late"
    STOPS = "stops"


PERSONA_LABELS = {
    Persona.ANSWERS: "answer every question",
    Persona.MISTYPES: "mistype at times",
    Persona.DROPS_OUT: "drop out after one answer",
    Persona.SILENT: "never answer",
    Persona.LATE: "answer only after the reminder",
    Persona.STOPS: "replies STOP",
}


# Shares among the people asked; exactly one more replies STOP to the first question.
PERSONA_SHARES = {Persona.SILENT: 0.35, Persona.LATE: 0.10, Persona.MISTYPES: 0.10, Persona.DROPS_OUT: 0.08}

# How people really answer: every one of these must mean its option (tests/outreach/test_demo.py).
YESNO_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "pl": {"yes": ("tak", "Tak", "TAK", "t", "tak!", "👍"), "no": ("nie", "Nie", "NIE", "n", "nie.")},
    "en": {"yes": ("yes", "Yes", "y", "yeah", "👍"), "no": ("no", "No", "nope")},
    "uk": {"yes": ("так", "Так", "ТАК"), "no": ("ні", "Ні")},
}
HEDGES = {"pl": "chyba {}", "en": "maybe {}", "uk": "мабуть {}"}
# Replies that fit nothing, so the service asks again; each must match no option (tested too).
MISTYPES_COMMON = ("eee?", "hmm", "?", "...")
MISTYPES_BY_LANGUAGE = {
    "pl": ("co?", "nie wiem", "a co to?"),
    "en": ("what?", "dunno"),
    "uk": ("шо?", "не знаю"),
}
TYPOS = {"yesno": ("tk", "nei", "yse"), "choice": ("7", "0")}


# --- reference data and the example campaign ------------------------------------------------------


@dataclass(frozen=True)
class District:
    name: str
    population: int


def load_districts() -> list[District]:
    text = (resources.files("outreach") / "data" / DISTRICTS_FILE).read_text(encoding="utf-8")
    return [District(row["district"], int(row["population"])) for row in csv.DictReader(text.splitlines())]


def load_example() -> Campaign:
    """The campaign file from `examples/` in a checkout, else its packaged copy."""
    path = EXAMPLES_DIR / EXAMPLE
    if path.is_file():
        return load_campaign_file(path)
    packaged = resources.files("outreach") / "data" / EXAMPLE
    return load_campaign(packaged.read_text(encoding="utf-8"), source=f"outreach/data/{EXAMPLE}")


def audience_districts(flow: Campaign, districts: Sequence[District]) -> list[District]:
    names = flow.audience.where.get("district")
    return [d for d in districts if names is None or d.name in names]


# --- simulated residents --------------------------------------------------------------------------


@dataclass
class SimResident:
    language: str
    district: str
    age_band: str
    sex: str
    rng: random.Random = field(repr=False)  # one per resident: behaviour does not depend on timing
    persona: Persona = Persona.SILENT
    phone: str = field(default="", repr=False)
    email: str = field(default="", repr=False)
    telegram: str = field(default="", repr=False)

    @property
    def addresses(self) -> list[tuple[str, str]]:
        """(address kind, address) pairs, as the sandbox channels deliver to them."""
        pairs = (("sms", self.phone), ("email", self.email), ("telegram", self.telegram))
        return [(kind, address) for kind, address in pairs if address]


def _draw(rng: random.Random, shares: Mapping[T, float]) -> T:
    return rng.choices(list(shares), weights=list(shares.values()))[0]


def _home(rng: random.Random, districts: Sequence[District]) -> str:
    return rng.choices([d.name for d in districts], weights=[d.population for d in districts])[0]


def simulate_residents(
    count: int, *, seed: int, districts: Sequence[District], audience: Sequence[District]
) -> list[SimResident]:
    rng = random.Random(seed)
    asked = round(count * AUDIENCE_SHARE)
    homes = [_home(rng, audience) for _ in range(asked)] + [_home(rng, districts) for _ in range(count - asked)]
    rng.shuffle(homes)
    # Fictional numbers, +48 600 0xx xxx, unique; they never leave this machine.
    phones = rng.sample(range(100_000), count)
    chats = rng.sample(range(10**9, 2 * 10**9), count)
    residents = []
    for index, home in enumerate(homes):
        kinds = _draw(rng, ADDRESS_SHARES)
        residents.append(
            SimResident(
                language=_draw(rng, LANGUAGE_SHARES),
                district=home,
                age_band=_draw(rng, AGE_BAND_SHARES),
                sex=_draw(rng, SEX_SHARES),
                rng=random.Random(f"{seed}:{index}"),
                phone=f"+486000{phones[index]:05d}" if "phone" in kinds else "",
                email=f"resident{index:05d}@example.org" if "email" in kinds else "",
                telegram=str(chats[index]) if "telegram" in kinds else "",
            )
        )
    names = {d.name for d in audience}
    _cast(rng, [r for r in residents if r.district in names], with_stop=True)
    _cast(rng, [r for r in residents if r.district not in names], with_stop=False)
    return residents


def _cast(rng: random.Random, group: list[SimResident], *, with_stop: bool) -> None:
    """Personas by quota rather than by independent draws, so even a small demo shows each kind
    (one STOP, at least one mistype) and the shares hold."""
    order = group[:]
    rng.shuffle(order)
    roles: list[Persona] = [Persona.STOPS] if with_stop else []
    for persona, share in PERSONA_SHARES.items():
        roles += [persona] * max(1, round(len(group) * share))
    roles += [Persona.ANSWERS] * (len(order) - len(roles))
    for resident, persona in zip(order, roles, strict=False):  # a tiny group takes the first roles
        resident.persona = persona


def write_residents_csv(residents: Sequence[SimResident], path: Path) -> None:
    """The residents file of PRODUCT.md, as a city would hand it over."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS)
        writer.writeheader()
        for resident in residents:
            writer.writerow(
                {
                    "phone": resident.phone,
                    "email": resident.email,
                    "telegram_chat_id": resident.telegram,
                    "language": resident.language,
                    "district": resident.district,
                    "age_band": resident.age_band,
                    "sex": resident.sex,
                    "consent_source": CONSENT_SOURCE,
                    "consent_at": CONSENT_AT,
                }
            )


# --- how a resident answers -------------------------------------------------------------------------


def strip_diacritics(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.replace("ł", "l").replace("Ł", "L"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def answer_variants(language: str, question_type: str, number: int, choice: Choice) -> list[str]:
    """Ways a person writes the option shown as `number) choice.label`."""
    if question_type == "yesno":
        return [*YESNO_WORDS.get(language, YESNO_WORDS["en"])[choice.key], str(number)]
    label = choice.label
    variants = [str(number), f"{number})", label, label.upper(), label.capitalize()]
    variants.append(HEDGES.get(language, "{}").format(label))
    if language == "pl":
        variants.append(strip_diacritics(label))
    return variants


def mistypes(language: str, question_type: str) -> list[str]:
    return [*MISTYPES_COMMON, *MISTYPES_BY_LANGUAGE.get(language, ()), *TYPOS.get(question_type, ())]


def reply_to(
    resident: SimResident,
    question: Question,
    attempt: int,
    choices: Sequence[Choice],
    *,
    first: bool,
    reminder: bool = False,
) -> str | None:
    """What the resident sends back to this question, or None for silence."""
    persona, rng = resident.persona, resident.rng
    if persona is Persona.SILENT or (persona is Persona.DROPS_OUT and not first):
        return None
    if persona is Persona.LATE and first and not reminder:
        return None  # the first message went unnoticed; the reminder gets an answer
    if persona is Persona.STOPS:
        return "STOP" if first else None
    if persona is Persona.MISTYPES and _mistypes_now(rng, attempt, first=first):
        return rng.choice(mistypes(resident.language, question.type))
    if not choices:
        return None
    index = rng.choices(range(len(choices)), weights=[OPINIONS.get(c.key, 1.0) for c in choices])[0]
    return rng.choice(answer_variants(resident.language, question.type, index + 1, choices[index]))


def _mistypes_now(rng: random.Random, attempt: int, *, first: bool) -> bool:
    # The opening question is always mistyped once, so every mistyper shows a re-ask; a re-ask is
    # mostly answered properly, and a second miss leaves the question unanswered.
    if attempt == 0:
        return first or rng.random() < 0.4
    return rng.random() < 0.25


def parse_question_key(key: str) -> tuple[str, int, bool] | None:
    """(question id, attempt, is a reminder) from an outbox key
    "q:{campaign}:{resident}:{question}:{attempt}", where a reminder's attempt is "r1", "r2", …"""
    if not key.startswith("q:"):
        return None  # an outro or a system reply: nothing to answer
    head, _, attempt = key.rpartition(":")
    parts = head.split(":", 3)
    reminder = attempt.startswith("r")
    number = attempt[1:] if reminder else attempt
    if len(parts) != 4 or not number.isdigit():
        return None
    return parts[3], 0 if reminder else int(number), reminder


class Crowd:
    """The simulated residents at their phones: each reads what the sandbox delivers and may answer,
    after a human pause, by a signed POST to the sandbox webhook."""

    def __init__(
        self, residents: Sequence[SimResident], flow: Campaign, *, http: aiohttp.ClientSession, secret: str
    ) -> None:
        self._by_address = {address: r for r in residents for address in r.addresses}
        self._flow = flow
        self._first = flow.first_question().id
        self._http = http
        self._secret = secret
        self._pending: set[asyncio.Task[None]] = set()
        self._provider_ids = itertools.count(1)
        self._closed = False
        self.activity = 0  # bumps whenever a reply starts or ends: lets the watcher see a quiet spell
        self.acknowledged = 0
        self.refused = 0

    @property
    def waiting(self) -> int:
        return len(self._pending)

    def hear(self, outbound: Outbound, _rendered: str) -> None:
        """The sandbox listener; it runs inside the dispatcher's send, so it only schedules."""
        resident = self._by_address.get((outbound.channel, outbound.address))
        asked = parse_question_key(outbound.key)
        if self._closed or resident is None or asked is None:
            return
        question_id, attempt, reminder = asked
        question = self._flow.question(question_id)
        first = question_id == self._first
        text = reply_to(resident, question, attempt, outbound.choices, first=first, reminder=reminder)
        if text is None:
            return
        delay = 0.05 + min(resident.rng.expovariate(4.0), 1.5)  # tens to hundreds of ms, a few slower
        task = asyncio.create_task(self._reply_later(outbound.channel, outbound.address, text, delay))
        self._pending.add(task)
        self.activity += 1
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._pending.discard(task)
        self.activity += 1

    async def _reply_later(self, channel: str, address: str, text: str, delay: float) -> None:
        await asyncio.sleep(delay)
        form = {"id": f"demo-{next(self._provider_ids)}", "from": address, "text": text}
        for _ in range(WEBHOOK_ATTEMPTS):
            try:
                async with self._http.post(
                    f"/webhooks/sandbox/{channel}", data=form, headers={SECRET_HEADER: self._secret}
                ) as response:
                    status = response.status
            except aiohttp.ClientError:
                status = 0
            if status == 200:
                self.acknowledged += 1
                return
            if status not in (0, 503):
                break
            await asyncio.sleep(0.5)
        self.refused += 1

    async def close(self) -> None:
        self._closed = True
        for task in self._pending:
            task.cancel()
        await asyncio.gather(*self._pending, return_exceptions=True)


# --- live progress --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    outbox: dict[str, int]
    conversations: dict[str, int]
    waiting_until_later: int
    reminders: int
    now: datetime

    @property
    def in_flight(self) -> int:
        return sum(self.outbox.get(status, 0) for status in ("queued", "claimed", "sending"))

    @property
    def sent(self) -> int:
        return self.outbox.get("sent", 0)

    @property
    def contacted(self) -> int:
        return sum(self.conversations.values())

    @property
    def finished(self) -> int:
        return sum(self.conversations.get(status, 0) for status in ("completed", "stopped", "expired"))

    @property
    def open(self) -> int:
        return self.conversations.get("active", 0) + self.conversations.get("waiting", 0)


async def take_snapshot(services: Services, campaign_id: int) -> Snapshot:
    now = services.clock()
    async with read_session(services.sessions) as session:
        outbox = OutboxRepository(session)
        counts = await outbox.count_by_status()  # STOP confirmations have no campaign
        later = await outbox.count_waiting_until_later(now)
        reminders = await outbox.count_reminders(campaign_id)
        conversations = await ConversationRepository(session).count_by_status(campaign_id)
    return Snapshot(counts, conversations, later, reminders, now)


class Board:
    """Three bars: messages sent, replies the service acknowledged, conversations finished."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._sent = progress.add_task("messages sent", total=None, detail="")
        self._replies = progress.add_task("replies received", total=None, detail="")
        self._done = progress.add_task("conversations finished", total=None, detail="")
        self._time = progress.add_task("simulated time", total=None, detail="")

    def show(self, snapshot: Snapshot, crowd: Crowd) -> None:
        to_send = snapshot.sent + snapshot.in_flight
        self._bar(self._sent, snapshot.sent, to_send, f"{snapshot.sent} of {to_send}")
        replies = crowd.acknowledged + crowd.waiting
        self._bar(self._replies, crowd.acknowledged, replies, f"{crowd.acknowledged} ({crowd.waiting} typing)")
        stopped = snapshot.conversations.get("stopped", 0)
        expired = snapshot.conversations.get("expired", 0)
        detail = f"{snapshot.finished} of {snapshot.contacted} ({stopped} stopped, {expired} timed out)"
        self._bar(self._done, snapshot.finished, snapshot.contacted, detail)
        local = snapshot.now.astimezone(DEMO_START.tzinfo)
        clock = f"{local:%a %H:%M} · {snapshot.waiting_until_later} held till morning · {snapshot.reminders} reminders"
        self._progress.update(self._time, detail=clock)

    def _bar(self, task: TaskID, completed: int, total: int, detail: str) -> None:
        self._progress.update(task, completed=completed, total=max(total, 1), detail=detail)


async def watch(services: Services, crowd: Crowd, campaign_id: int, console: Console, *, deadline: float) -> bool:
    """Show progress until nothing is left to send and nobody is typing; False when time ran out."""
    progress = Progress(
        TextColumn("{task.description:<24}"),
        BarColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=console,
    )
    with progress:
        board = Board(progress)
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            activity = crowd.activity
            snapshot = await take_snapshot(services, campaign_id)
            board.show(snapshot, crowd)
            # Unchanged activity across the read: no reply started or ended while it ran, and a
            # reply can only be started by a send, which the outbox counts would show.
            # Open conversations still wait for a reminder or for their answer window to close.
            if crowd.waiting == 0 and crowd.activity == activity and snapshot.in_flight == 0 and not snapshot.open:
                return True
            if time.monotonic() >= deadline:
                return False


# --- the demo -------------------------------------------------------------------------------------


def sqlite_url(database: Path) -> str:
    return f"sqlite+aiosqlite:///{database}"


def fresh_database(database: Path) -> Path:
    """The absolute path (the closing hints work from any folder), with any earlier demo removed."""
    database = database.resolve()
    for suffix in ("", "-wal", "-shm", "-journal"):
        database.with_name(database.name + suffix).unlink(missing_ok=True)
    return database


def demo_settings(database: Path, secret: str) -> Settings:
    return Settings(
        database_url=sqlite_url(database),
        sandbox_secret=SecretStr(secret),
        sandbox_latency_ms=SANDBOX_LATENCY_MS,
        dispatcher_poll_seconds=DISPATCHER_POLL_SECONDS,
        lifecycle_interval_seconds=LIFECYCLE_INTERVAL_SECONDS,
        _env_file=None,
    )


async def run_demo(console: Console, *, residents: int, database: Path, seed: int) -> None:
    deadline = time.monotonic() + TIME_LIMIT_SECONDS
    quiet_third_party_logs()
    database = fresh_database(database)
    secret = secrets.token_urlsafe(24)
    clock = AcceleratedClock(DEMO_START, DEMO_SPEED)
    services = bootstrap(demo_settings(database, secret), clock=clock)
    try:
        await upgrade(services.engine)
        flow = load_example()
        districts = load_districts()
        audience = audience_districts(flow, districts)
        people = simulate_residents(residents, seed=seed, districts=districts, audience=audience)
        describe_crowd(console, people, audience, seed)
        await import_crowd(services, people, console)
        record = await create_campaign(services.sessions, flow, clock=services.clock)
        console.print(f"Campaign [bold]{escape(record.slug)}[/] created from {EXAMPLE}.")
        campaign_id = await consult(services, clock, flow, people, secret, record.slug, console, deadline=deadline)
        console.print()
        console.print(await campaign_results_view(services.sessions, campaign_id, flow))
        print_next_steps(console, database, record.slug)
    finally:
        await services.close()


def describe_crowd(console: Console, people: Sequence[SimResident], audience: Sequence[District], seed: int) -> None:
    names = {d.name for d in audience}
    asked = [p for p in people if p.district in names]
    where = escape(" and ".join(sorted(names)))
    console.print(
        f"Simulating {len(people)} residents of Gdańsk (seed {seed}): {len(asked)} live in {where},"
        f" where the campaign asks; {len(people) - len(asked)} elsewhere."
    )
    personas = Counter(p.persona for p in asked)
    console.print("Of those asked: " + ", ".join(f"{personas[p]} {PERSONA_LABELS[p]}" for p in Persona) + ".")


async def import_crowd(services: Services, people: Sequence[SimResident], console: Console) -> None:
    with tempfile.TemporaryDirectory(prefix="outreach-demo-") as folder:
        path = Path(folder) / "residents.csv"
        write_residents_csv(people, path)
        report = await import_residents(
            services.sessions, path, region=services.settings.default_region, clock=services.clock
        )
    if report.errors:  # a bug in the simulation, not the visitor's problem; messages hold no addresses
        raise RuntimeError(f"the simulated residents file was refused: {report.errors[0]}")
    console.print(f"Imported {report.created} residents through the residents file import.")


async def consult(
    services: Services,
    clock: AcceleratedClock,
    flow: Campaign,
    people: Sequence[SimResident],
    secret: str,
    slug: str,
    console: Console,
    *,
    deadline: float,
) -> int:
    """Serve the app, let the crowd listen, launch, and watch until done; the campaign id."""
    runner = web.AppRunner(create_app(services), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        async with aiohttp.ClientSession(base_url=f"http://{host}:{port}") as http:
            crowd = Crowd(people, flow, http=http, secret=secret)
            for sandbox in services.sandboxes.values():
                sandbox.subscribe(crowd.hear)
            try:
                # Launched only now, with the service up and the crowd listening, as in real life.
                clock.run()
                report = await launch_campaign(services.sessions, slug, clock=services.clock, spread=services.spread)
                launched_at = f"{DEMO_START:%A %H:%M}"
                console.print(
                    f"Launched on {launched_at} (simulated, {DEMO_SPEED / 3600:.0f} h a second):"
                    f" {report.conversations_started} conversations started; quiet hours hold them until morning."
                )
                started = time.monotonic()
                done = await watch(services, crowd, report.campaign_id, console, deadline=deadline)
            finally:
                await crowd.close()
    finally:
        await runner.cleanup()  # stops the dispatcher after the sends in flight
    elapsed = time.monotonic() - started
    if done:
        console.print(f"Everyone who was going to answer did, in {elapsed:.1f} s.")
    else:
        limit = f"{TIME_LIMIT_SECONDS:.0f} s for the whole demo"
        console.print(f"Time is up ({limit}); the results show what had arrived by then.")
    if crowd.refused:
        console.print(f"[yellow]{crowd.refused} replies were refused by the webhook.[/]")
    return report.campaign_id


def print_next_steps(console: Console, database: Path, slug: str) -> None:
    setting = f"OUTREACH_DATABASE_URL={shlex.quote(sqlite_url(database))}"
    console.print(f"\nThe demo database is {escape(str(database))}; look at it again with:")
    for command in (f"outreach results {slug}", f"outreach export {slug} --format csv"):
        console.print(f"  {setting} {command}", markup=False, highlight=False, soft_wrap=True)
