"""The shared send-rate limiter against a real Redis, and four worker OS processes against a stand-in
provider that logs when each send arrived.

OUTREACH_TEST_REDIS_URL picks the server (default the machine's, database 0); each test works under a
key prefix of its own and deletes it afterwards. When Redis is unreachable the tests skip with the
reason, except with CI=true, where they fail.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import os
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis.asyncio as aioredis
from aiohttp import web
from redis.exceptions import RedisError

from outreach.outbound.rate_limits import (
    GcraLimiter,
    Item,
    Rate,
    RatePolicy,
    send_keys,
    standard_policy,
)
from outreach.outbound.rate_limits_redis import RedisRateLimiter
from tests.conftest import unavailable
from tests.outreach.outbound.test_rate_limits import max_in_window
from tests.servers.ports import spare_port

REDIS_URL = os.environ.get("OUTREACH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
async def redis_client() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except (RedisError, OSError) as error:
        await client.aclose()
        unavailable(f"Redis at {REDIS_URL} is unreachable ({type(error).__name__})")
    yield client
    await client.aclose()


@pytest.fixture
async def prefix(redis_client: aioredis.Redis) -> AsyncIterator[str]:
    name = f"outreach-test:{uuid.uuid4().hex[:12]}:"
    yield name
    keys = [key async for key in redis_client.scan_iter(match=name + "*")]
    if keys:
        await redis_client.delete(*keys)


def limiter(redis_client: aioredis.Redis, rates: dict[str, Rate] | RatePolicy, prefix: str) -> RedisRateLimiter:
    policy = rates if isinstance(rates, RatePolicy) else RatePolicy(rates)
    return RedisRateLimiter(redis_client, policy, prefix=prefix)


# --- the Lua script does what the in-process limiter does -------------------------------------------

SAME_AS_IN_PROCESS: list[tuple[dict[str, Rate], list[list[Item]]]] = [
    ({"k": Rate(10)}, [[("k", 1)]] * 6),  # one every 0.1 s
    ({"k": Rate(10)}, [[("k", 3)]] * 4),  # 3-segment SMS: 0.3 s each
    ({"k": Rate(1, burst=3)}, [[("k", 1)]] * 6),  # three at once, then one a second
    ({"k": Rate(4)}, [[("k", 0.5)], [("k", 2.5)], [("k", 1)], [("k", 1)]]),  # fractional costs
    ({"a": Rate(30), "b": Rate(1)}, [[("a", 1), ("b", 1)], [("a", 1)], [("a", 1)], [("a", 1), ("b", 1)]]),
]


@pytest.mark.parametrize(("rates", "requests"), SAME_AS_IN_PROCESS)
async def test_redis_reserves_the_slots_the_in_process_limiter_reserves(
    redis_client: aioredis.Redis, prefix: str, rates: dict[str, Rate], requests: list[list[Item]]
) -> None:
    """Redis slots, measured from the first, lie between the in-process limiter's slots for the same
    requests made at the earliest and at the latest moment each call could have read Redis's TIME after
    the first call read it (a GCRA's slots only move later with later requests): the same slots when the
    calls are quick, and still a fair check when a loaded machine makes one take 50 ms (a comparison at
    one instant, within 50 ms, failed so)."""
    shared = limiter(redis_client, rates, prefix)
    earliest, latest = GcraLimiter(RatePolicy(rates)), GcraLimiter(RatePolicy(rates))
    remote_slots, lower, upper = [], [], []
    first_sent = first_back = 0.0
    for index, request in enumerate(requests):
        sent = time.monotonic()
        remote = await shared.reserve(request, may_defer=False)
        back = time.monotonic()
        if index == 0:
            first_sent, first_back = sent, back
        # How long after the first call's TIME this call's could have been read, at least and at most.
        soonest, last = (0.0, 0.0) if index == 0 else (sent - first_back, back - first_sent)
        assert remote.granted
        remote_slots.append(remote.slot)
        lower.append(earliest.reserve(request, now=soonest, may_defer=False).slot)
        upper.append(latest.reserve(request, now=last, may_defer=False).slot)
    relative = [slot - remote_slots[0] for slot in remote_slots]
    assert all(low - 0.001 <= slot <= high + 0.001 for low, slot, high in zip(lower, relative, upper, strict=True)), (
        lower,
        relative,
        upper,
    )
    assert remote_slots == sorted(remote_slots)


async def test_redis_defers_a_busy_chat_without_reserving_the_bot(redis_client: aioredis.Redis, prefix: str) -> None:
    shared = limiter(redis_client, standard_policy(headroom=1.0), prefix)
    alice = send_keys("telegram", sender="bot", address="1001")
    started = time.monotonic()
    assert (await shared.reserve(alice)).granted
    deferred = await shared.reserve(alice)
    # The chat's next slot is 1 s after the first send, on Redis's clock: a wait shorter by the time
    # that passed between the calls (tens of milliseconds on a loaded machine).
    assert not deferred.granted and deferred.wait == pytest.approx(1.0, abs=0.05 + time.monotonic() - started)
    bob = await shared.reserve(send_keys("telegram", sender="bot", address="1002"))
    assert bob.granted and bob.wait < 0.1  # the bot's next slot, not after alice's second message
    forced = await shared.reserve(alice, may_defer=False)
    assert forced.granted and forced.wait == pytest.approx(1.0, abs=0.05 + time.monotonic() - started)


async def test_redis_reserves_a_chat_behind_a_long_bot_queue_at_once(redis_client: aioredis.Redis, prefix: str) -> None:
    shared = limiter(redis_client, standard_policy(headroom=1.0), prefix)
    started = time.monotonic()
    for _ in range(60):
        await shared.reserve([("telegram:bot", 1)])
    grant = await shared.reserve(send_keys("telegram", sender="bot", address="1001"))
    # Two seconds after the first reservation: a wait shorter by the time the 61 calls took.
    assert grant.granted and grant.wait == pytest.approx(2.0, abs=0.05 + time.monotonic() - started)


async def test_keys_expire_once_idle(redis_client: aioredis.Redis, prefix: str) -> None:
    shared = limiter(redis_client, {"k": Rate(10)}, prefix)
    for _ in range(20):  # two seconds of sends reserved
        await shared.reserve([("k", 1)])
    ttl_ms = await redis_client.pttl(prefix + "k")
    assert 2000 < ttl_ms <= 3000  # until the TAT, plus a second
    await shared.reserve([("unlimited", 1)])
    assert await redis_client.exists(prefix + "unlimited") == 0


async def test_the_script_is_loaded_again_after_redis_forgets_it(redis_client: aioredis.Redis, prefix: str) -> None:
    shared = limiter(redis_client, {"k": Rate(10)}, prefix)
    started = time.monotonic()
    await shared.reserve([("k", 1)])
    await redis_client.script_flush()  # as after a Redis restart: EVALSHA answers NOSCRIPT
    second = await shared.reserve([("k", 1)])
    assert second.granted and second.wait == pytest.approx(0.1, abs=0.05 + time.monotonic() - started)


class Proxy:
    """A TCP relay to the real Redis, started late: Redis "comes back" when it starts."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.server: asyncio.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        target = urlsplit(REDIS_URL)
        upstream_reader, upstream_writer = await asyncio.open_connection(target.hostname, target.port or 6379)
        self.writers += [writer, upstream_writer]

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer), return_exceptions=True)

    async def stop(self) -> None:
        for writer in self.writers:
            writer.close()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


async def test_an_unreachable_redis_holds_every_send_logs_once_and_resumes(
    redis_client: aioredis.Redis, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    proxy = Proxy(spare_port())
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 3:
            await proxy.start()

    client = aioredis.Redis.from_url(f"redis://127.0.0.1:{proxy.port}/0", socket_connect_timeout=2)
    shared = RedisRateLimiter(client, RatePolicy({"k": Rate(10)}), prefix=prefix, sleep=sleep, retry_seconds=0.5)
    caplog.set_level(logging.WARNING, logger="outreach.outbound.rate_limits")
    try:
        grant = await asyncio.wait_for(shared.acquire("k"), timeout=30)
    finally:
        await shared.close()
        await proxy.stop()
    assert grant.granted
    assert sleeps == [0.5, 0.5, 0.5]  # nothing was granted while Redis did not answer
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 2, messages
    assert "Redis unreachable" in messages[0] and "holding every send" in messages[0]
    assert "answers again" in messages[1]
    assert await redis_client.exists(prefix + "k") == 1


# --- four worker processes share one limit -------------------------------------------------------

WORKERS = 4
SENDS_PER_WORKER = 50
LIMIT = 20.0  # the provider's limit, per second
# The limiter runs at 19.4/s, so two sends may reach the provider up to 1/0.97 - 1 ≈ 31 ms apart from
# their slots' spacing without breaking a window (measured here: 2-6 ms, once 18 ms; the deployment
# default 0.98 allows 20 ms).
HEADROOM = 0.97


class StandIn:
    """A provider stand-in that logs each send's arrival (time.monotonic() on this machine, the clock
    the workers also read) and releases the workers together once all are ready."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.ready: list[int] = []
        self.go = asyncio.Event()
        self.arrivals: list[dict[str, Any]] = []

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/ready", self._ready)
        app.router.add_get("/go", self._go)
        app.router.add_post("/send", self._send)
        return app

    async def _ready(self, request: web.Request) -> web.Response:
        self.ready.append((await request.json())["pid"])
        if len(self.ready) == self.workers:
            self.go.set()
        return web.json_response({"ok": True})

    async def _go(self, request: web.Request) -> web.Response:
        await self.go.wait()
        return web.json_response({"ok": True})

    async def _send(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        self.arrivals.append({**(await request.json()), "arrived": arrived})
        return web.json_response({"ok": True}, status=201)


@pytest.mark.slow
async def test_four_worker_processes_share_one_limit_and_use_it(redis_client: aioredis.Redis, prefix: str) -> None:
    stand_in = StandIn(WORKERS)
    runner = web.AppRunner(stand_in.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    key = "sms:+48500100100"
    env = {name: value for name, value in os.environ.items() if not name.startswith("OUTREACH_")}
    try:
        workers = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tests.outreach.outbound.rate_limit_worker",
                *("--redis", REDIS_URL, "--prefix", prefix, "--key", key),
                *("--limit", str(LIMIT), "--headroom", str(HEADROOM), "--count", str(SENDS_PER_WORKER)),
                *("--server", f"http://127.0.0.1:{port}", "--worker", str(number)),
                cwd=REPO,
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            for number in range(WORKERS)
        ]
        for worker in workers:
            _, stderr = await asyncio.wait_for(worker.communicate(), timeout=90)
            assert worker.returncode == 0, stderr.decode()
    finally:
        await runner.cleanup()

    sends = stand_in.arrivals
    total = WORKERS * SENDS_PER_WORKER
    assert len(sends) == total
    assert len(set(stand_in.ready)) == WORKERS, "four distinct processes"
    assert Counter(send["worker"] for send in sends) == dict.fromkeys(range(WORKERS), SENDS_PER_WORKER)

    # 1. The reservations, on the Redis clock, are exactly one interval apart: no window over the limit.
    slots = sorted(send["slot"] for send in sends)
    interval = 1 / (LIMIT * HEADROOM)
    assert min(b - a for a, b in itertools.pairwise(slots)) >= interval - 1e-6
    assert max_in_window(slots, [1] * total, 1.0) <= LIMIT

    # 2. What the provider saw: every sliding one-second window of arrivals at or under the limit.
    # A send reaches the stand-in after its slot (the reply from Redis, the worker's wake-up, the
    # request); the headroom absorbs the difference between two such delays (HEADROOM above).
    arrivals = sorted(send["arrived"] for send in sends)
    offsets = [send["arrived"] - send["slot"] for send in sends]  # clock offset + delay of each send
    jitter = max(offsets) - min(offsets)
    in_flight = max(send["arrived"] - send["sent_at"] for send in sends)
    busiest = max_in_window(arrivals, [1] * total, 1.0)
    assert busiest <= LIMIT, f"{busiest} arrivals in one second; delay jitter {jitter * 1000:.1f} ms"

    # 3. Utilisation: the four used the limit together, none waiting out the others' slots (that would
    # be a quarter of it, or less). Not the percentage: that is timing, which `make bench-send` holds to
    # 97% on a quiet machine; here, beside other test workers on 2 CPUs, a stress run once got 92.3%.
    duration = arrivals[-1] - arrivals[0]
    utilisation = (total - 1) / (duration * LIMIT)
    assert utilisation >= 0.75, f"{utilisation:.1%} of the limit over {duration:.2f} s"
    assert math.isfinite(in_flight) and in_flight < 1.0
