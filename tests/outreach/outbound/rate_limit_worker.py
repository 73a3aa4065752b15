"""One worker process of tests/outreach/test_rate_limits_redis.py: acquire slots on a shared Redis key and
POST each send to the test's stand-in provider, which logs when it arrived.

Every worker first reports ready and waits for the go (so that interpreter start-up, which loads the
CPU, does not overlap the measured sends), then runs `--concurrency` senders until `--count` sends are
done. Each send carries the worker, a sequence number, the slot Redis reserved (Redis clock) and the
monotonic time the worker sent it.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import time

import aiohttp

from outreach.outbound.rate_limits import Rate, RatePolicy
from outreach.outbound.rate_limits_redis import RedisRateLimiter


async def run(arguments: argparse.Namespace) -> None:
    rate = Rate(arguments.limit).with_headroom(arguments.headroom)
    limiter = RedisRateLimiter.from_url(arguments.redis, RatePolicy({arguments.key: rate}), prefix=arguments.prefix)
    numbers = itertools.count()
    try:
        async with aiohttp.ClientSession(arguments.server) as http:
            async with http.post("/ready", json={"worker": arguments.worker, "pid": os.getpid()}) as response:
                response.raise_for_status()
            async with http.get("/go") as response:
                response.raise_for_status()

            async def sender() -> None:
                while (number := next(numbers)) < arguments.count:
                    grant = await limiter.acquire(arguments.key)
                    sent_at = time.monotonic()
                    send = {"worker": arguments.worker, "seq": number, "slot": grant.slot, "sent_at": sent_at}
                    async with http.post("/send", json=send) as response:
                        response.raise_for_status()

            await asyncio.gather(*(sender() for _ in range(arguments.concurrency)))
    finally:
        await limiter.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--redis", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--limit", type=float, required=True, help="the provider's limit, per second")
    parser.add_argument("--headroom", type=float, default=0.98)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--concurrency", type=int, default=3)
    parser.add_argument("--server", required=True, help="the stand-in provider, http://127.0.0.1:PORT")
    parser.add_argument("--worker", type=int, required=True)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
