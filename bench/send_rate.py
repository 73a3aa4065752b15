"""Send-rate benchmark: the rate limiter in front of a provider stand-in that answers in 200 ms.

    .venv/bin/python bench/send_rate.py            # about five minutes; writes docs/BENCHMARKS.md
    .venv/bin/python bench/send_rate.py --quick    # a shorter run, for a look (writes nothing)

The stand-in runs in a child process (its own event loop) on loopback and logs each send's arrival
on the machine's monotonic clock. Every figure is measured in this run, next to its baselines:

1. ceiling: the same sender loop without a limiter, with and without the 200 ms answer, shows what the
   machine and the provider's latency allow (concurrency / latency);
2. limits: SMS 10 segments/s and Telegram 30/s overall + 1/s per chat, through the in-process limiter
   and through Redis: achieved rate, share of the limit, busiest sliding one-second window;
3. the dispatcher itself: `outreach.outbound.dispatcher.Dispatcher.run` draining a SQLite outbox of Telegram
   and SMS messages at once through a minimal channel that posts to the stand-in, next to the
   dispatcher's previous loop (claim a batch, send it, claim again when all are done) simulated;
4. in flight: the concurrency a limit needs: at least rate × latency sends must be waiting on the
   provider at once, or the latency, not the limit, sets the pace;
5. overhead: microseconds per acquire, in-process and through Redis;
6. memory: what the in-process limiter keeps for 100,000 chats.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import itertools
import os
import platform
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import aiohttp
from aiohttp import web
from report_sections import write_section
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from verdicts import Check, finish

from channels.base import Capabilities, Inbound, Outbound, Sent
from channels.base import Request as WebhookRequest
from channels.sms_segments import count_segments
from outreach.bootstrap import channel_pools
from outreach.clock import system_clock
from outreach.outbound.dispatcher import Dispatcher, DispatchPolicy
from outreach.outbound.rate_limits import (
    GcraLimiter,
    Item,
    Rate,
    RateLimiter,
    RatePolicy,
    Reservation,
    send_keys,
    standard_policy,
)
from outreach.outbound.rate_limits_redis import RedisRateLimiter
from outreach.settings import Settings
from outreach.web.server import freeze_startup_heap
from storage.address_keys import address_keys
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.outbox import NewMessage, OutboxRepository
from storage.tables import ContactAddress, OutboxMessage, Resident

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "docs" / "BENCHMARKS.md"
BEGIN, END = "<!-- send-rate:begin -->", "<!-- send-rate:end -->"
REDIS_URL = os.environ.get("OUTREACH_REDIS_URL", "redis://127.0.0.1:6379/0")
LATENCY = 0.2
HEADROOM = 0.98  # the default of standard_policy

# Consultation questions as an SMS carries them: folded to GSM-7 (1 segment), Polish (UCS-2, 2 and 3).
SMS_BODIES = [
    "Czy park Orunski potrzebuje nowych lawek? Odpowiedz 1) tak 2) nie",
    "Jak oceniasz nowe oświetlenie ulicy Długiej? Odpowiedz liczbą od 1 do 5, gdzie 5 oznacza bardzo dobrze.",
    "Które udogodnienie w parku Oruńskim jest najważniejsze? 1) ławki 2) oświetlenie 3) toalety "
    "4) plac zabaw 5) ścieżka rowerowa. Odpowiedz numerem.",
]


# --- the provider stand-in (child process) ---------------------------------------------------


def provider_main() -> None:
    arrivals: list[tuple[float, float, str]] = []  # (monotonic time, units, tag)

    async def send(request: web.Request) -> web.Response:
        arrivals.append((time.monotonic(), float(request.query.get("units", "1")), request.query.get("tag", "")))
        latency = float(request.query.get("latency", "0"))
        if latency:
            await asyncio.sleep(latency)
        return web.json_response({"ok": True}, status=201)

    async def log(request: web.Request) -> web.Response:
        return web.json_response(arrivals)

    async def reset(request: web.Request) -> web.Response:
        arrivals.clear()
        return web.json_response({"ok": True})

    async def serve() -> None:
        app = web.Application()
        app.router.add_post("/send", send)
        app.router.add_get("/log", log)
        app.router.add_post("/reset", reset)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        print(f"PORT {runner.addresses[0][1]}", flush=True)
        await asyncio.Event().wait()  # until the parent ends this process

    asyncio.run(serve())


# --- measuring -------------------------------------------------------------------------------


def busiest_window(times: Sequence[float], costs: Sequence[float], width: float = 1.0) -> float:
    events = sorted(zip(times, costs, strict=True))
    best, total, end = 0.0, 0.0, 0
    for start, (t, _) in enumerate(events):
        while end < len(events) and events[end][0] < t + width:
            total += events[end][1]
            end += 1
        best = max(best, total)
        total -= events[start][1]
    return best


@dataclass(frozen=True)
class Send:
    items: list[Item]  # what the limiter is asked for
    units: float  # what the provider counts
    tag: str = ""  # the chat, for the per-chat window


@dataclass(frozen=True)
class Arrival:
    time: float
    units: float
    tag: str


@dataclass
class Result:
    scenario: str
    limiter: str
    limit: float | None  # units per second
    concurrency: int
    latency_ms: int
    sends: int
    units: float
    achieved: float  # units per second from the first arrival to the end of the run
    busiest: float  # units in the busiest sliding one-second window of arrivals
    busiest_slots: float | None  # the same for the slots the limiter granted
    busiest_tag: float | None  # sends to one chat in its busiest sliding one-second window
    late_slots: int | None  # slots given up because a sender woke too late


Request = Callable[[int], Send]  # the send with this number


async def run_senders(
    http: aiohttp.ClientSession,
    *,
    limiter: RateLimiter | None,
    request: Request,
    concurrency: int,
    seconds: float,
    latency: float,
    batch: int | None = None,
) -> tuple[list[Arrival], list[tuple[float, float]], float]:
    """`concurrency` senders, each: acquire, POST, wait for the answer, again; no new send once
    `seconds` have passed. With `batch`, as the dispatcher does today: take `batch` sends, deliver them
    `concurrency` at a time (acquire inside the slot), and take the next batch when all are done.
    What the stand-in logged, the granted (slot, units), and the end of the run (monotonic)."""
    async with http.post("/reset") as response:
        response.raise_for_status()
    numbers = itertools.count()
    deadline = time.monotonic() + seconds
    slots: list[tuple[float, float]] = []

    async def deliver(send: Send) -> None:
        if limiter is not None:
            grant = await limiter.acquire_all(send.items)
            slots.append((grant.slot, send.units))
        params = {"latency": str(latency), "units": str(send.units), "tag": send.tag}
        async with http.post("/send", params=params) as response:
            response.raise_for_status()
            await response.read()

    async def sender() -> None:
        while time.monotonic() < deadline:
            await deliver(request(next(numbers)))

    if batch is None:
        await asyncio.gather(*(sender() for _ in range(concurrency)))
    else:
        in_flight = asyncio.Semaphore(concurrency)

        async def in_slot(send: Send) -> None:
            async with in_flight:
                await deliver(send)

        while time.monotonic() < deadline:
            await asyncio.gather(*(in_slot(request(next(numbers))) for _ in range(batch)))
    async with http.get("/log") as response:
        logged: list[list[float | str]] = await response.json()
    return [Arrival(float(t), float(units), str(tag)) for t, units, tag in logged], slots, deadline


def summarise(
    scenario: str,
    limiter: str,
    limit: float | None,
    concurrency: int,
    latency: float,
    arrivals: list[Arrival],
    end: float,
    slots: list[tuple[float, float]] | None = None,
    late_slots: int | None = None,
) -> Result:
    """The rate counts what arrived from the first arrival until no new send was started: with work
    always waiting that is the steady rate (sends still waiting for a slot at the end trail off)."""
    start = min(arrival.time for arrival in arrivals)
    steady = sum(arrival.units for arrival in arrivals if arrival.time < end)
    by_tag: dict[str, list[float]] = {}
    for arrival in arrivals:
        if arrival.tag:
            by_tag.setdefault(arrival.tag, []).append(arrival.time)
    busiest_tag = max((busiest_window(times, [1.0] * len(times)) for times in by_tag.values()), default=None)
    return Result(
        scenario,
        limiter,
        limit,
        concurrency,
        round(latency * 1000),
        len(arrivals),
        sum(arrival.units for arrival in arrivals),
        steady / (end - start),
        busiest_window([arrival.time for arrival in arrivals], [arrival.units for arrival in arrivals]),
        busiest_window([slot for slot, _ in slots], [units for _, units in slots]) if slots else None,
        busiest_tag,
        late_slots,
    )


SENDER = "+48500100100"


def sms(number: int) -> Send:
    return Send(send_keys("sms", sender=SENDER, address="", cost=1), 1.0)


def sms_mixed(number: int) -> Send:
    segments = count_segments(SMS_BODIES[number % len(SMS_BODIES)]).segments
    return Send(send_keys("sms", sender=SENDER, address="", cost=segments), float(segments))


def telegram(number: int) -> Send:
    """A campaign: every resident once, and every tenth gets a second message straight away."""
    chat = str(100_000_000 + (number - 1 if number % 10 == 9 else number))
    return Send(send_keys("telegram", sender="bot", address=chat), 1.0, tag=chat)


def telegram_only_overall(number: int) -> Send:
    return Send([("telegram:bot", 1.0)], 1.0)


async def redis_limiter(policy: RatePolicy, prefix: str) -> RedisRateLimiter | None:
    shared = RedisRateLimiter.from_url(REDIS_URL, policy, prefix=prefix)
    try:
        await asyncio.wait_for(shared.reserve([("bench:probe", 1)]), timeout=3)
    except (TimeoutError, OSError) as error:
        print(f"Redis at {REDIS_URL} unreachable ({type(error).__name__}): Redis rows skipped", file=sys.stderr)
        await shared.close()
        return None
    return shared


async def overhead(limiter: RateLimiter, calls: int) -> float:
    """Microseconds per acquire on a key whose rate never makes anyone wait."""
    started = time.perf_counter()
    for _ in range(calls):
        await limiter.acquire("bench:free")
    return (time.perf_counter() - started) / calls * 1e6


def memory(chats: int, prune_every: int) -> tuple[int, int]:
    """Bytes held (traced) and keys tracked after `chats` distinct chats at 30/s, on virtual time."""
    policy = standard_policy()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    limiter = GcraLimiter(policy, prune_every=prune_every)
    for number in range(chats):
        limiter.reserve(send_keys("telegram", sender="bot", address=str(number)), now=number / 30)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    held = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    return held, len(limiter)


# --- the dispatcher itself, draining a SQLite outbox --------------------------------------------

DISPATCHER_CHANNELS = ("telegram", "sms")
TELEGRAM_TEXT = "Czy w ciągu ostatniego roku byłeś/-aś w Parku Oruńskim? 1) tak 2) nie"


class StandInChannel:
    """The least a Channel needs: each send is one POST to the stand-in, answered after `latency`; the
    stand-in logs the units the provider counts (SMS segments) and the address."""

    capabilities: ClassVar[Capabilities] = Capabilities(max_length=1600)

    def __init__(self, name: str, http: aiohttp.ClientSession, latency: float) -> None:
        self.name, self._http, self._latency = name, http, latency

    def verify(self, request: WebhookRequest) -> bool:
        return False

    def parse_inbound(self, request: WebhookRequest) -> list[Inbound]:
        return []

    async def send(self, outbound: Outbound) -> Sent:
        segments = count_segments(outbound.text).segments if self.name == "sms" else 1
        params = {"latency": str(self._latency), "units": str(segments), "tag": f"{self.name}:{outbound.address}"}
        async with self._http.post("/send", params=params) as response:
            response.raise_for_status()
            await response.read()
        return Sent(outbound.key, segments=segments if self.name == "sms" else None)


class RecordingLimiter:
    """A limiter that notes each grant's slot and units by channel, for the busiest window of slots."""

    def __init__(self, inner: RateLimiter) -> None:
        self.inner = inner
        self.slots: dict[str, list[tuple[float, float]]] = {}

    async def acquire(self, key: str, cost: float = 1.0) -> Reservation:
        return await self.acquire_all([(key, cost)])

    async def acquire_all(self, items: Iterable[Item], *, lead: float = 0.0) -> Reservation:
        request = list(items)
        grant = await self.inner.acquire_all(request, lead=lead)
        if request:
            key, cost = request[0]
            self.slots.setdefault(key.split(":", 1)[0], []).append((grant.slot, cost))
        return grant

    async def until_slot(self, reservation: Reservation) -> float:
        return await self.inner.until_slot(reservation)

    async def close(self) -> None:
        await self.inner.close()


async def seed_outbox(url: str, *, sms: int, telegram: int) -> None:
    """A migrated SQLite outbox (as the tests build theirs): `sms` SMS of 1-3 segments queued first, then
    `telegram` Telegram residents, every tenth with a second message right behind the first (an intro
    and its question: the second waits for the first, then for its chat's 1/s)."""
    engine = create_engine(url)
    try:
        await upgrade(engine)
        now = datetime.now(UTC)
        addresses = [("sms", f"+48600{n:06d}") for n in range(sms)]
        addresses += [("telegram", str(100_000_000 + n)) for n in range(telegram)]
        async with session_factory(engine)() as session, session.begin():
            residents = [
                {"pseudonym": f"bench{n}", "language": "pl", "attributes": {}, "created_at": now, "updated_at": now}
                for n in range(len(addresses))
            ]
            await session.execute(insert(Resident), residents)
            keys = address_keys(session)
            contacts = [
                {"resident_id": n + 1, "channel": channel, **keys.columns(channel, address), "created_at": now}
                | {"consent_at": now}
                for n, (channel, address) in enumerate(addresses)
            ]
            await session.execute(insert(ContactAddress), contacts)  # a fresh database: ids 1, 2, 3, …
            outbox = OutboxRepository(session)
            for n, (channel, _) in enumerate(addresses):
                texts = [SMS_BODIES[n % len(SMS_BODIES)]] if channel == "sms" else [TELEGRAM_TEXT]
                if channel == "telegram" and n % 10 == 0:
                    texts.append("Jak oceniasz Park Oruński? 1-5")
                for number, text in enumerate(texts):
                    await outbox.enqueue(NewMessage(f"bench:{n}:{number}", n + 1, n + 1, "question", text), now=now)
    finally:
        await engine.dispose()


@dataclass
class DispatcherRun:
    arrivals: list[Arrival]
    slots: dict[str, list[tuple[float, float]]]
    end: float
    waiting: dict[str, int]  # rows still queued per channel when the run stopped
    late_slots: int | None


async def run_dispatcher(
    http: aiohttp.ClientSession, limiter: RateLimiter, *, seconds: float, latency: float, pools: dict[str, int]
) -> DispatcherRun:
    """`Dispatcher.run` for `seconds` on an outbox holding more than the limits let go meanwhile, as the
    service runs it (default batch size and pools), then stopped as on SIGTERM."""
    async with http.post("/reset") as response:
        response.raise_for_status()
    recording = RecordingLimiter(limiter)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/outbox.db"
        margin = seconds + 15  # work waits to the end
        await seed_outbox(url, sms=int(10 * margin), telegram=int(30 * margin))
        engine = create_engine(url, inline_writes=True)  # as `outreach serve` gives the dispatcher
        sessions = session_factory(engine)
        channels = {name: StandInChannel(name, http, latency) for name in DISPATCHER_CHANNELS}
        batch_size = Settings(_env_file=None).dispatcher_batch_size
        policy = DispatchPolicy(batch_size=batch_size, channel_concurrency=pools)
        dispatcher = Dispatcher(
            sessions, channels, worker_id="bench", policy=policy, clock=system_clock, limiter=recording
        )
        stopping = asyncio.Event()
        running = asyncio.create_task(dispatcher.run(stopping, poll_seconds=1.0))
        await asyncio.sleep(seconds)
        end = time.monotonic()
        stopping.set()
        await running
        async with sessions() as session:
            waiting = await queued_by_channel(session)
        await engine.dispose()
    async with http.get("/log") as response:
        logged: list[list[float | str]] = await response.json()
    arrivals = [Arrival(float(t), float(units), str(tag)) for t, units, tag in logged]
    # Late: the limiter's own (a sender woken late) and the dispatcher's (a start recorded too slowly).
    late = getattr(limiter, "late_slots", None)
    return DispatcherRun(
        arrivals, recording.slots, end, waiting, None if late is None else late + dispatcher.late_writes
    )


async def queued_by_channel(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(
        select(col(ContactAddress.channel), func.count())
        .join(OutboxMessage, col(OutboxMessage.contact_id) == col(ContactAddress.id))
        .where(col(OutboxMessage.status) == "queued")
        .group_by(col(ContactAddress.channel))
    )
    return {channel: count for channel, count in rows.all()}


def dispatcher_results(run: DispatcherRun, label: str, latency: float, pools: dict[str, int]) -> list[Result]:
    """One row per channel of the run: the same measures as the limiter rows."""
    results = []
    for channel, scenario, limit in (
        ("telegram", "Dispatcher: Telegram, beside SMS", 30.0),
        ("sms", "Dispatcher: SMS 1-3 segments, beside Telegram", 10.0),
    ):
        # Only a Telegram chat is a per-chat window; SMS addresses are counted together.
        arrivals = [
            Arrival(a.time, a.units, a.tag if channel == "telegram" else "")
            for a in run.arrivals
            if a.tag.startswith(channel + ":")
        ]
        slots = run.slots.get(channel, [])
        results.append(
            summarise(scenario, label, limit, pools[channel], latency, arrivals, run.end, slots, run.late_slots)
        )
    return results


# --- the run ---------------------------------------------------------------------------------


class Bench:
    def __init__(self, http: aiohttp.ClientSession) -> None:
        self.http = http
        self.results: list[Result] = []

    async def measure(
        self,
        scenario: str,
        label: str,
        limiter: RateLimiter | None,
        limit: float | None,
        request: Request,
        concurrency: int,
        latency: float,
        seconds: float,
        batch: int | None = None,
    ) -> Result:
        arrivals, slots, end = await run_senders(
            self.http,
            limiter=limiter,
            request=request,
            concurrency=concurrency,
            seconds=seconds,
            latency=latency,
            batch=batch,
        )
        late = getattr(limiter, "late_slots", None)
        result = summarise(scenario, label, limit, concurrency, latency, arrivals, end, slots, late)
        self.results.append(result)
        print(_row(result), flush=True)
        return result

    async def dispatcher(self, policy: RatePolicy, prefix: str, seconds: float) -> dict[str, dict[str, int]]:
        """The dispatcher rows, in-process and (when Redis answers) through Redis; what was still queued
        per channel when each run stopped."""
        pools = channel_pools(Settings(_env_file=None), DISPATCHER_CHANNELS)
        # As `outreach serve` does once started: what is alive now (here the earlier rows' arrivals too,
        # which no serve process holds) stays out of the collector's full passes.
        freeze_startup_heap()
        limiters: list[tuple[str, RateLimiter]] = [("in-process", GcraLimiter(policy))]
        shared = await redis_limiter(policy, prefix + "dispatcher:")
        if shared is not None:
            limiters.append(("Redis", shared))
        waiting: dict[str, dict[str, int]] = {}
        for label, limiter in limiters:
            outcome = await run_dispatcher(self.http, limiter, seconds=seconds, latency=LATENCY, pools=pools)
            for result in dispatcher_results(outcome, label, LATENCY, pools):
                self.results.append(result)
                print(_row(result), flush=True)
            waiting[label] = outcome.waiting
        if shared is not None:
            await shared.close()
        return waiting


def free_key(number: int) -> Send:
    return Send([("bench:free", 1.0)], 1.0)


PRUNE_EVERY = inspect.signature(GcraLimiter).parameters["prune_every"].default  # the default
FREE = RatePolicy({"bench:free": Rate(1e9)})  # a rate nobody waits for: the limiter's own cost


async def bench(seconds: float, sweep_seconds: float) -> tuple[str, list[Result]]:
    provider = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--provider", stdout=asyncio.subprocess.PIPE
    )
    assert provider.stdout is not None
    port = int((await provider.stdout.readline()).decode().split()[1])
    prefix = f"bench:{os.getpid()}:"
    load = os.getloadavg()[0]  # other work on the machine shows up as wake-up jitter
    sweep: dict[tuple[int, int], float] = {}
    costs_us: list[tuple[str, float]] = []
    try:
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}", connector=connector) as http:
            run = Bench(http)
            print(_header(), flush=True)
            short = min(seconds, 5.0)
            await run.measure("ceiling: machine", "none", None, None, free_key, 16, 0.0, short)
            await run.measure(
                "ceiling: machine", "in-process, unbounded rate", GcraLimiter(FREE), None, free_key, 16, 0.0, short
            )
            free_shared = await redis_limiter(FREE, prefix)
            if free_shared is not None:
                await run.measure(
                    "ceiling: machine", "Redis, unbounded rate", free_shared, None, free_key, 16, 0.0, short
                )
            await run.measure("ceiling: provider latency", "none", None, None, free_key, 8, LATENCY, short)

            policy = standard_policy(headroom=HEADROOM)
            limiters: list[tuple[str, RateLimiter]] = [("in-process", GcraLimiter(policy))]
            shared = await redis_limiter(policy, prefix)
            if shared is not None:
                limiters.append(("Redis", shared))
            for label, limiter in limiters:
                await run.measure("SMS, 1 segment", label, limiter, 10, sms, 8, LATENCY, seconds)
                await run.measure("SMS, 1-3 segments", label, limiter, 10, sms_mixed, 8, LATENCY, seconds)
                await run.measure("Telegram overall + chat", label, limiter, 30, telegram, 16, LATENCY, seconds)
            for batch in (50, 300):
                batches = f"Telegram, batches of {batch}"
                await run.measure(batches, "in-process", GcraLimiter(policy), 30, telegram, 16, LATENCY, seconds, batch)
            waiting = await run.dispatcher(policy, prefix, seconds)

            for latency in (0.2, 0.3):
                for concurrency in (1, 2, 4, 6, 8, 10, 12, 16):
                    arrivals, _, end = await run_senders(
                        http,
                        limiter=GcraLimiter(policy),
                        request=telegram_only_overall,
                        concurrency=concurrency,
                        seconds=sweep_seconds,
                        latency=latency,
                    )
                    achieved = summarise("", "", 30, concurrency, latency, arrivals, end).achieved
                    sweep[(concurrency, round(latency * 1000))] = achieved
                    print(f"  in flight {concurrency:2d} at {latency * 1000:.0f} ms: {achieved:5.1f}/s", flush=True)

            costs_us.append(("in-process", await overhead(GcraLimiter(FREE), 20_000)))
            if free_shared is not None:
                costs_us.append(("Redis (loopback)", await overhead(free_shared, 2_000)))
            for opened in (free_shared, shared):
                if opened is not None:
                    await opened.close()
    finally:
        provider.terminate()
        await provider.wait()

    memory_rows = [(100_000, every, *memory(100_000, every)) for every in (PRUNE_EVERY, 10**9)]
    return _report(run.results, sweep, costs_us, memory_rows, seconds, sweep_seconds, load, waiting), run.results


SHARE_BOUND = 0.97  # of each limit, through the limiter (it aims at 98%: HEADROOM)


def checks(results: list[Result]) -> list[Check]:
    """Each limited row (not the simulated batch loop, which shows what it lost) at 97% of its limit or
    more and never over it; no Telegram chat sent to more than once in a second."""
    found = []
    for result in results:
        if result.limit is None or "batches of" in result.scenario:
            continue
        what = f"{result.scenario}, {result.limiter}"
        found.append(
            Check(
                f"{what}: share of the limit",
                result.achieved / result.limit,
                SHARE_BOUND,
                at_least=True,
                basis=f"{result.achieved:.1f}/s of {result.limit:g}/s",
            )
        )
        found.append(Check(f"{what}: achieved rate", result.achieved, result.limit, "/s", basis="the limit"))
        if result.busiest_tag is not None:
            found.append(Check(f"{what}: busiest chat, 1 s", result.busiest_tag, 1, basis="Telegram's 1/s per chat"))
    return found


def _header() -> str:
    return (
        "| scenario | limiter | limit /s | in flight | latency | sends | achieved /s | of limit "
        "| busiest 1 s: slots | busiest 1 s: arrivals | busiest chat 1 s | late slots |\n"
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    )


def _row(result: Result) -> str:
    limit = f"{result.limit:g}" if result.limit else "-"
    share = f"{result.achieved / result.limit:.1%}" if result.limit else "-"
    return (
        f"| {result.scenario} | {result.limiter} | {limit} | {result.concurrency} | {result.latency_ms} ms | "
        f"{result.sends} | {result.achieved:,.1f} | {share} | {_optional(result.busiest_slots)} | "
        f"{result.busiest:g} | {_optional(result.busiest_tag)} | {_optional(result.late_slots)} |"
    )


def _optional(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _report(
    results: list[Result],
    sweep: dict[tuple[int, int], float],
    costs_us: list[tuple[str, float]],
    memory_rows: list[tuple[int, int, int, int]],
    seconds: float,
    sweep_seconds: float,
    load: float,
    waiting: dict[str, dict[str, int]],
) -> str:
    still_queued = "; ".join(
        f"{label}: " + ", ".join(f"{count} {channel}" for channel, count in sorted(counts.items()))
        for label, counts in waiting.items()
    )
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs (load average {load:.2f} when the run began), Python "
        f"{platform.python_version()}, {sys.platform}; "
        f"{seconds:g} s per limit row, {sweep_seconds:g} s per concurrency step. Achieved: units that reached "
        "the stand-in from the first arrival until the senders stopped starting new sends, per second; SMS "
        "rows count segments. The limiter runs at "
        f"{HEADROOM:.0%} of each limit (the default headroom), so 98% is the expected share.",
        "",
        _header(),
        *(_row(result) for result in results),
        "",
        "- Busiest 1 s: the most units in any sliding one-second window, of the slots the limiter granted "
        "(its own schedule, on its clock) and of the arrivals the stand-in logged (what a provider sees: slots "
        "plus the sender's wake-up and the request). SMS rows with 1-3 segment bodies count whole messages: "
        "a 3-segment message goes when the number is idle and holds it for 0.3 s, so a window can hold up to "
        "10 + 3 - 1 = 12 segments while the provider, releasing segments one by one, never sends more than 10 "
        "in a second.",
        "- Late slots: slots a sender gave up because it woke more than 10 ms after them (a stalled event "
        "loop or a busy CPU) and took a new one rather than bunch up with the next sender.",
        "- Busiest chat 1 s: the most sends to one Telegram chat in a sliding second. Every tenth resident "
        "gets a second message at once; it waits for its chat without holding up the bot.",
        "- Batches of N: the dispatcher's previous loop, simulated (claim N, send them 16 at a time with the "
        "limiter inside the slot, claim again when all are done). The limit goes unused while a batch waits "
        "for its last member: the answer's latency, and here up to a second more for a chat's second message, "
        "out of every N / rate seconds.",
        "- Dispatcher: `Dispatcher.run` itself, as `outreach serve` runs it (default batch size, each "
        "channel's default pool: the in-flight column), on a SQLite outbox (a temporary file, migrated) "
        "holding SMS of 1-3 segments queued before Telegram messages (every tenth Telegram resident with a "
        "second message right behind the first), through a minimal channel that posts each send to the "
        "stand-in; stopped as on SIGTERM after the run's seconds, with work still queued (rows left: "
        f"{still_queued}). Each channel claims and sends in a lane of its own and claims again while fewer "
        "than half a batch of its claimed messages are unfinished, so the limiter never waits for a claim's "
        "stragglers. A send is woken 30 ms before its slot (`start_lead`), records its start in the "
        "database meanwhile and goes at the slot; the heap alive before the rows is frozen out of the "
        "cyclic collector's full passes, as `outreach serve` does once started. Late slots count the whole "
        "run (both channels), and include sends whose start record ended over 10 ms after their slot: such "
        "a send takes a fresh slot rather than arrive late beside the next ones and crowd the provider's "
        "second.",
        "",
        "Sends in flight needed (Telegram 30/s overall, one limiter, the stand-in answering in 200 or 300 ms):",
        "",
        "| in flight | rate × latency at 200 ms | achieved at 200 ms | rate × latency at 300 ms | achieved at 300 ms |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for concurrency in sorted({c for c, _ in sweep}):
        lines.append(
            f"| {concurrency} | {30 * 0.2:g} | {sweep[(concurrency, 200)]:.1f} /s | {30 * 0.3:g} | "
            f"{sweep[(concurrency, 300)]:.1f} /s |"
        )
    lines += [
        "",
        "Limiter cost per acquire (a key whose rate never makes anyone wait):",
        "",
        "| limiter | µs per acquire | acquires/s |",
        "| --- | ---: | ---: |",
        *(f"| {label} | {us:,.1f} | {1e6 / us:,.0f} |" for label, us in costs_us),
        "",
        "Memory of the in-process limiter after 100,000 distinct Telegram chats at 30/s (traced allocations):",
        "",
        "| chats | prune every | keys kept | bytes held |",
        "| ---: | ---: | ---: | ---: |",
        *(
            f"| {chats:,} | {'never' if every >= 10**9 else f'{every:,} sends'} | {kept:,} | {held:,} |"
            for chats, every, held, kept in memory_rows
        ),
        "",
        "In Redis each key expires a second after its theoretical arrival time, so Redis holds only the keys busy now.",
    ]
    return "\n".join(lines)


def write_report(body: str) -> None:
    section = (
        f"{BEGIN}\n## Send rate (`bench/send_rate.py`)\n\n"
        "Reproduce: `.venv/bin/python bench/send_rate.py` (Redis rows need Redis at `OUTREACH_REDIS_URL`, "
        "default redis://127.0.0.1:6379/0). Absolute figures belong to the machine they were measured on; "
        "compare a row with the baselines of the same run, not with another machine's.\n\n"
        f"{body}\n{END}"
    )
    write_section(REPORT, BEGIN, END, section)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds per limit row")
    parser.add_argument("--sweep-seconds", type=float, default=5.0, help="seconds per concurrency step")
    parser.add_argument("--quick", action="store_true", help="5 s rows, 2 s steps, no report written")
    parser.add_argument("--provider", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.provider:
        provider_main()
        return
    seconds, sweep_seconds = (5.0, 2.0) if arguments.quick else (arguments.seconds, arguments.sweep_seconds)
    body, results = asyncio.run(bench(seconds, sweep_seconds))
    print()
    print(body)
    if not arguments.quick:
        write_report(body)
        print(f"\nwritten to {REPORT.relative_to(ROOT)}")
    finish("bench-send", checks(results))


if __name__ == "__main__":
    main()
