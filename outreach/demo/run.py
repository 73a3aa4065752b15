"""`outreach demo`: a whole consultation through the real SMS and Telegram adapters, with simulated residents.

Only the residents and the providers are simulated. The providers are the bundled stand-ins
(`channels.standins`): a Twilio Messages API and a Telegram Bot API on 127.0.0.1 that speak the
providers' wire formats, so the service is configured as with real OUTREACH_TWILIO_* and
OUTREACH_TELEGRAM_* settings and sends through the real twilio SDK and python-telegram-bot. Residents
come in through the CSV import officials use, the example campaign is created and launched as from the
CLI, and the HTTP app (which registers its Telegram webhook at start) and its dispatcher do the rest.
Each simulated resident reads what the stand-in received for them and answers the way the provider
delivers it: a signed Twilio inbound-SMS webhook, or a Telegram update (typed text or a button tap)
carrying the webhook secret. No credentials, no network beyond 127.0.0.1. Email is off: there are no
mail settings, so residents are asked by SMS or Telegram (an email address only rides along).

Personal data rule: addresses are generated from fictional ranges and still never printed.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import logging
import random
import re
import secrets
import shlex
import socket
import tempfile
import time
import unicodedata
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web
from pydantic import SecretStr
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from channels.base import Choice
from channels.sms_segments import fold_to_gsm
from channels.standins.telegram import TelegramStandIn
from channels.standins.twilio import StoredMessage, TwilioStandIn
from flows.engine import ask_question
from flows.loader import load_campaign, load_campaign_file
from flows.model import Campaign, Question
from flows.texts import reask_hint, reminder_prefix
from outreach.bootstrap import Services, bootstrap
from outreach.campaigns.commands import create_campaign, launch_campaign
from outreach.campaigns.residents_import import import_residents
from outreach.clock import AcceleratedClock
from outreach.inbound.telegram_updates import WEBHOOK_PATH as TELEGRAM_WEBHOOK_PATH
from outreach.logs import quiet_third_party_logs
from outreach.results.terminal_view import campaign_results_view
from outreach.settings import Settings
from outreach.web.app import create_app
from storage.campaigns import ConversationRepository
from storage.db import read_session
from storage.migrate import upgrade
from storage.outbox import OutboxRepository

T = TypeVar("T")

EXAMPLE = "park_orunski.yaml"
EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
# outreach/data/gdansk_districts.csv is a copy of ../shared/data/gdansk_districts.csv: public figures
# (the 35 districts of Gdańsk and their population; see shared/data/README.md for the source). It is
# packaged, with a copy of the example campaign, so the demo also runs from an installed wheel.
DISTRICTS_FILE = "gdansk_districts.csv"

# The example asks two districts (8% of the city): most simulated residents live there, so that a few
# hundred are asked; the rest spread over the city by population and show the audience filter at work.
AUDIENCE_SHARE = 0.85
DISPATCHER_POLL_SECONDS = 0.05  # the next question goes out right after an answer, not a second later
REFRESH_SECONDS = 0.25
TIME_LIMIT_SECONDS = 50.0  # from the start of the demo, set-up included: it ends within a minute
# Simulated time: launched on a Tuesday evening in Gdańsk, after quiet hours began, at two simulated
# hours per real second: the night hold (till 08:00), the reminder (24 h) and the end of the answer
# window (48 h) all show within the minute.
DEMO_START = datetime(2027, 3, 2, 21, 30, tzinfo=ZoneInfo("Europe/Warsaw"))
DEMO_SPEED = 7200.0
DEMO_RATE = 1000.0  # sends per second the demo's stand-ins accept
LIFECYCLE_INTERVAL_SECONDS = 0.2  # real seconds: 24 simulated minutes
WEBHOOK_ATTEMPTS = 3  # a provider retries a 503 (store busy); the provider id makes the retry safe

# The service's own SMS number (a fictional one: a number, not a name, so residents can reply) and its
# Telegram bot's id (the part of the token before the colon).
SMS_SENDER = "+48500000100"
TELEGRAM_BOT_ID = 7000000001
TAP_SHARE = 0.6  # of the answers a Telegram resident means: tapped on the button, the rest typed
# Loggers of the provider SDKs and their HTTP clients, silenced while the demo runs.
PROVIDER_LOGGERS = ("twilio", "telegram", "httpx", "httpcore", "aiohttp.access", "aiohttp.client")

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
# Email is off in the demo (it has no mail settings), so nobody has an email address alone: those who
# gave one are asked by SMS or on Telegram, the example campaign's first two channels.
ADDRESS_SHARES: dict[tuple[str, ...], float] = {
    ("phone",): 0.66,
    ("phone", "email"): 0.12,
    ("telegram",): 0.15,
    ("telegram", "email"): 0.07,
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
        """(address kind, address) pairs, as the provider stand-ins deliver to them."""
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


def _numbered(variant: str) -> bool:
    return variant.removesuffix(")").isdecimal()


def mistypes(language: str, question_type: str) -> list[str]:
    return [*MISTYPES_COMMON, *MISTYPES_BY_LANGUAGE.get(language, ()), *TYPOS.get(question_type, ())]


@dataclass(frozen=True)
class Reply:
    """What a resident sends back: the text they type, and the option they mean (its index among the
    choices offered) when they mean one, so that on Telegram they may tap its button instead."""

    text: str
    choice: int | None = None


def reply_to(
    resident: SimResident,
    question: Question,
    attempt: int,
    choices: Sequence[Choice],
    *,
    first: bool,
    reminder: bool = False,
    numbered: bool = True,
) -> Reply | None:
    """What the resident sends back to this question, or None for silence. `numbered`: the options
    were shown with numbers (an SMS), so a number is a way to answer; Telegram shows buttons."""
    persona, rng = resident.persona, resident.rng
    if persona is Persona.SILENT or (persona is Persona.DROPS_OUT and not first):
        return None
    if persona is Persona.LATE and first and not reminder:
        return None  # the first message went unnoticed; the reminder gets an answer
    if persona is Persona.STOPS:
        return Reply("STOP") if first else None
    if persona is Persona.MISTYPES and _mistypes_now(rng, attempt, first=first):
        return Reply(rng.choice(mistypes(resident.language, question.type)))
    if not choices:
        return None
    index = rng.choices(range(len(choices)), weights=[OPINIONS.get(c.key, 1.0) for c in choices])[0]
    variants = answer_variants(resident.language, question.type, index + 1, choices[index])
    if not numbered:
        variants = [variant for variant in variants if not _numbered(variant)] or variants
    return Reply(rng.choice(variants), index)


def _mistypes_now(rng: random.Random, attempt: int, *, first: bool) -> bool:
    # The opening question is always mistyped once, so every mistyper shows a re-ask; a re-ask is
    # mostly answered properly, and a second miss leaves the question unanswered.
    if attempt == 0:
        return first or rng.random() < 0.4
    return rng.random() < 0.25


# --- what a resident's phone shows ------------------------------------------------------------------


@dataclass(frozen=True)
class Button:
    label: str
    data: str  # the callback data a tap sends back


@dataclass(frozen=True)
class Received:
    """A message as it reached a resident: through which provider (the address kind), the text, and
    on Telegram the message id and the inline keyboard's buttons."""

    channel: str
    address: str
    text: str
    message_id: int | None = None
    buttons: tuple[Button, ...] = ()


def sms_received(message: StoredMessage) -> Received:
    """An SMS the Twilio stand-in accepted."""
    return Received(channel="sms", address=message.to, text=message.body)


def telegram_received(message: Mapping[str, Any]) -> Received | None:
    """A message the Telegram stand-in accepted (the Bot API's Message object); None if not to a chat."""
    chat, text = message.get("chat"), message.get("text")
    if not isinstance(chat, Mapping) or not isinstance(text, str):
        return None
    markup = message.get("reply_markup")
    rows = markup.get("inline_keyboard", []) if isinstance(markup, Mapping) else []
    buttons = tuple(
        Button(str(button["text"]), str(button["callback_data"]))
        for row in rows
        for button in row
        if isinstance(button, Mapping) and "callback_data" in button
    )
    return Received(
        channel="telegram",
        address=str(chat["id"]),
        text=text,
        message_id=int(message["message_id"]),
        buttons=buttons,
    )


@dataclass(frozen=True)
class Reading:
    """What a resident makes of a message: which question it asks, whether it is a re-ask (after a
    reply that fitted nothing) or a reminder, and the options offered with the key each one means."""

    question: Question
    reask: bool
    reminder: bool
    choices: tuple[Choice, ...]


NUMBERED_LINE = re.compile(r"^(\d+)\) (.+)$", re.MULTILINE)


def read_message(flow: Campaign, language: str, received: Received) -> Reading | None:
    """Read a message as its resident would: by its wording. None when it asks nothing (the outro,
    a reply to STOP)."""
    language = language if language in flow.languages else flow.default_language
    text = received.text
    asked = [q for q in flow.questions if q.text[language] in text or fold_to_gsm(q.text[language]) in text]
    if not asked:
        return None
    question = max(asked, key=lambda q: len(q.text[language]))  # a question inside a longer one: the longer
    offered = ask_question(question, language, attempt=0).choices  # the options, in the order shown
    shown = [button.label for button in received.buttons] or [label for _, label in NUMBERED_LINE.findall(text)]
    if len(shown) != len(offered):
        shown = [choice.label for choice in offered]
    reask = any(hint in text for hint in (reask_hint(question, language), fold_to_gsm(reask_hint(question, language))))
    reminder = text.startswith((reminder_prefix(language), fold_to_gsm(reminder_prefix(language))))
    return Reading(
        question=question,
        reask=reask,
        reminder=reminder,
        choices=tuple(Choice(choice.key, label) for choice, label in zip(offered, shown, strict=True)),
    )


# --- the residents at their phones ------------------------------------------------------------------


@dataclass(frozen=True)
class Providers:
    """The provider stand-ins and where they deliver to us, as the real providers would be told."""

    twilio: TwilioStandIn
    telegram: TelegramStandIn
    public_url: str
    telegram_secret: str

    @property
    def sms_webhook(self) -> str:
        return f"{self.public_url}/webhooks/twilio/sms"

    @property
    def telegram_webhook(self) -> str:
        return f"{self.public_url}{TELEGRAM_WEBHOOK_PATH}"


class Crowd:
    """The simulated residents at their phones: each hears what a provider stand-in received for
    them and may answer, after a human pause, the way that provider delivers it to our webhook."""

    def __init__(self, residents: Sequence[SimResident], flow: Campaign, providers: Providers) -> None:
        self._by_address = {address: r for r in residents for address in r.addresses}
        self._flow = flow
        self._first = flow.first_question().id
        self._providers = providers
        self._reasks: Counter[tuple[str, str, str]] = Counter()
        self._pending: set[asyncio.Task[None]] = set()
        self._closed = False
        self.activity = 0  # bumps whenever a reply starts or ends: lets the watcher see a quiet spell
        self.acknowledged = 0
        self.refused = 0
        self.delivered: Counter[str] = Counter()  # "sms", "telegram typed", "telegram tapped"

    def listen(self) -> None:
        self._providers.twilio.subscribe(self._hear_sms)
        self._providers.telegram.subscribe(self._hear_telegram)

    @property
    def waiting(self) -> int:
        return len(self._pending)

    def _hear_sms(self, message: StoredMessage) -> None:
        self.hear(sms_received(message))

    def _hear_telegram(self, message: dict[str, Any]) -> None:
        received = telegram_received(message)
        if received is not None:
            self.hear(received)

    def hear(self, received: Received) -> None:
        """A stand-in's listener; it runs inside the stand-in's request handler, so it only schedules."""
        resident = self._by_address.get((received.channel, received.address))
        if self._closed or resident is None:
            return
        reading = read_message(self._flow, resident.language, received)
        if reading is None:
            return
        question = reading.question
        attempt = 0
        if reading.reask:  # the n-th re-ask of a question is its attempt n
            self._reasks[(received.channel, received.address, question.id)] += 1
            attempt = self._reasks[(received.channel, received.address, question.id)]
        first = question.id == self._first
        numbered = not received.buttons
        reply = reply_to(
            resident, question, attempt, reading.choices, first=first, reminder=reading.reminder, numbered=numbered
        )
        if reply is None:
            return
        tap = None
        if reply.choice is not None and received.buttons and resident.rng.random() < TAP_SHARE:
            tap = received.buttons[reply.choice]
        delay = 0.05 + min(resident.rng.expovariate(4.0), 1.5)  # tens to hundreds of ms, a few slower
        task = asyncio.create_task(self._reply_later(resident, received, reply.text, tap, delay))
        self._pending.add(task)
        self.activity += 1
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._pending.discard(task)
        self.activity += 1

    async def _reply_later(
        self, resident: SimResident, received: Received, text: str, tap: Button | None, delay: float
    ) -> None:
        await asyncio.sleep(delay)
        if received.channel == "sms":
            kind, deliver, retry_unanswered = "sms", self._sms(received, text), False
        else:
            kind = "telegram tapped" if tap is not None else "telegram typed"
            deliver, retry_unanswered = self._telegram(resident, received, text, tap), True
        for _ in range(WEBHOOK_ATTEMPTS):
            try:
                status = await deliver()
            except aiohttp.ClientError:
                status = 0
            if status == 200:
                self.acknowledged += 1
                self.delivered[kind] += 1
                return
            # A 503 (store busy) rolled back: the provider retries. Telegram also retries an update
            # left unanswered (its update_id makes that safe); Twilio does not re-send an inbound SMS.
            if status != 503 and not (status == 0 and retry_unanswered):
                break
            await asyncio.sleep(0.5)
        self.refused += 1

    def _sms(self, received: Received, text: str) -> Callable[[], Awaitable[int]]:
        twilio, webhook = self._providers.twilio, self._providers.sms_webhook

        async def deliver() -> int:
            status, _sid = await twilio.deliver_inbound(webhook, from_=received.address, to=SMS_SENDER, body=text)
            return status

        return deliver

    def _telegram(
        self, resident: SimResident, received: Received, text: str, tap: Button | None
    ) -> Callable[[], Awaitable[int]]:
        telegram, chat = self._providers.telegram, int(received.address)
        if tap is not None and received.message_id is not None:
            update = telegram.callback_update(chat, tap.data, received.message_id, language_code=resident.language)
        else:
            update = telegram.message_update(chat, text, language_code=resident.language)

        async def deliver() -> int:  # the same update each time: a retry is recognised by its update_id
            return await telegram.post_update(self._providers.telegram_webhook, update, self._providers.telegram_secret)

        return deliver

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


class DemoSettings(Settings):
    """Settings given by the demo alone. OUTREACH_* variables and a .env never reach it: a real SMTP
    relay, Twilio number or bot in the environment must not meet the simulated residents."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def demo_settings(database: Path, providers: Providers) -> Settings:
    """The service configured for Twilio SMS and a Telegram bot in webhook mode, as in production,
    with the providers' API URLs pointing at the stand-ins. No mail settings: email is off."""
    return DemoSettings(
        database_url=sqlite_url(database),
        public_url=providers.public_url,
        twilio_account_sid=providers.twilio.account_sid,
        twilio_auth_token=SecretStr(providers.twilio.auth_token),
        twilio_from=SMS_SENDER,
        twilio_api_url=providers.twilio.base_url,
        telegram_bot_token=SecretStr(providers.telegram.token),
        telegram_webhook_secret=SecretStr(providers.telegram_secret),
        telegram_api_url=providers.telegram.base_url,
        telegram_mode="webhook",
        dispatcher_poll_seconds=DISPATCHER_POLL_SECONDS,
        lifecycle_interval_seconds=LIFECYCLE_INTERVAL_SECONDS,
        # Provider limits run on the wall clock, not the demo's accelerated one: a simulated day of
        # sends must fit a real minute, so the stand-ins are treated as generous providers.
        rate_sms_segments_per_second=DEMO_RATE,
        rate_telegram_per_second=DEMO_RATE,
        rate_telegram_per_chat_per_second=DEMO_RATE,
    )


def loopback_socket() -> socket.socket:
    """A listening address for the service on a free port of 127.0.0.1, taken before the settings
    are made (the public URL is in them) and served later: no other process can take it between."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.contextmanager
def provider_logs_silenced() -> Iterator[None]:
    """The SDKs' own HTTP logs name URLs (with the bot token) and headers (with the Twilio
    credentials): none of them reaches the demo's output. Restored afterwards."""
    loggers = [logging.getLogger(name) for name in PROVIDER_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


async def run_demo(console: Console, *, residents: int, database: Path, seed: int) -> None:
    deadline = time.monotonic() + TIME_LIMIT_SECONDS
    quiet_third_party_logs()
    with provider_logs_silenced():
        database = fresh_database(database)
        twilio = TwilioStandIn(account_sid="AC" + secrets.token_hex(16), auth_token=secrets.token_hex(16))
        telegram = TelegramStandIn(f"{TELEGRAM_BOT_ID}:{secrets.token_urlsafe(26)}")
        async with twilio, telegram:
            sock = loopback_socket()
            try:
                host, port = sock.getsockname()[:2]
                providers = Providers(twilio, telegram, f"http://{host}:{port}", secrets.token_urlsafe(24))
                await simulate(
                    console, providers, sock, residents=residents, database=database, seed=seed, deadline=deadline
                )
            finally:
                sock.close()


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
        await upgrade(services.engine)
        flow = load_example()
        districts = load_districts()
        audience = audience_districts(flow, districts)
        people = simulate_residents(residents, seed=seed, districts=districts, audience=audience)
        describe_crowd(console, people, audience, seed)
        await import_crowd(services, people, console)
        record = await create_campaign(services.sessions, flow, clock=services.clock)
        console.print(f"Campaign [bold]{escape(record.slug)}[/] created from {EXAMPLE}.")
        campaign_id = await consult(
            services, providers, sock, clock, flow, people, record.slug, console, deadline=deadline
        )
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


def describe_channels(
    console: Console, services: Services, providers: Providers, flow: Campaign, people: Sequence[SimResident]
) -> None:
    """Which provider asks whom: the campaign's first channel the resident has an address for."""
    order = [kind for kind in flow.channels if kind in services.channels]
    names = set(flow.audience.where.get("district", ()))
    asked = [p for p in people if not names or p.district in names]
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
            services.sessions, path, region=services.settings.default_region, clock=services.clock
        )
    if report.errors:  # a bug in the simulation, not the visitor's problem; messages hold no addresses
        raise RuntimeError(f"the simulated residents file was refused: {report.errors[0]}")
    console.print(f"Imported {report.created} residents through the residents file import.")


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
        describe_channels(console, services, providers, flow, people)
        if providers.telegram.webhook is None:
            console.print("[yellow]The Telegram webhook was not registered: Telegram residents cannot answer.[/]")
        else:
            console.print(f"Telegram webhook registered: {providers.telegram_webhook}.", highlight=False)
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


def print_next_steps(console: Console, database: Path, slug: str) -> None:
    setting = f"OUTREACH_DATABASE_URL={shlex.quote(sqlite_url(database))}"
    console.print(f"\nThe demo database is {escape(str(database))}; look at it again with:")
    for command in (f"outreach results {slug}", f"outreach export {slug} --format csv"):
        console.print(f"  {setting} {command}", markup=False, highlight=False, soft_wrap=True)
