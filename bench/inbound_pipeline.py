"""CPU per answered reply of the inbound pipeline, in process (issue 18's inbound profile, made repeatable).

    .venv/bin/python bench/inbound_pipeline.py [sqlite|postgresql] [--replies N] [--profile]

`bench/inbound.py` measures requests per second through `outreach serve`, which on these shared machines
moves with the load average. This measures what one reply costs: the same database as there (RESIDENTS
residents with open conversations, prepared through the CLI by bench/inbound.py's `prepare`), then
`InboundPipeline.handle` for N answers from 32 concurrent callers, no HTTP and no dispatcher. It prints the
process CPU time per reply (every thread: aiosqlite's too), the wall rate and, on SQLite, how many grouped
commits held them; `--profile` adds cProfile's top functions by own time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import itertools
import pstats
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from inbound import RESIDENTS_DEFAULT, phone, postgres_database, prepare

from channels.base import Inbound
from outreach.bootstrap import Services, bootstrap
from outreach.settings import Settings

CALLERS = 32


async def answers(services: Services, numbers: itertools.count[int], count: int) -> None:
    async def caller(replies: int) -> None:
        for _ in range(replies):
            number = next(numbers)
            sent = Inbound(
                "sms", f"SM{uuid.uuid4().hex}", phone(number % RESIDENTS_DEFAULT), f"odp {number}", datetime.now(UTC)
            )
            await services.pipeline.handle(sent)

    await asyncio.gather(*(caller(count // CALLERS) for _ in range(CALLERS)))


async def measure(database_url: str, replies: int, profile: bool) -> None:
    services = bootstrap(Settings(database_url=database_url, _env_file=None), worker_id="bench")
    numbers = itertools.count()
    try:
        await answers(services, numbers, CALLERS * 10)  # warm-up: connections, statement caches
        profiler = cProfile.Profile() if profile else None
        cpu, wall = time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        await answers(services, numbers, replies)
        if profiler:
            profiler.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        grouped = services.pipeline.grouped_commits
        done = replies // CALLERS * CALLERS
        print(
            f"{database_url.split(':')[0]}: {done} replies, CPU {1000 * cpu / done:.2f} ms per reply, "
            f"{done / wall:.0f} replies/s" + (f", {grouped} grouped commits" if grouped is not None else "")
        )
        if profiler:
            pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
    finally:
        await services.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("backend", choices=("sqlite", "postgresql"), nargs="?", default="sqlite")
    parser.add_argument("--replies", type=int, default=1000)
    parser.add_argument("--profile", action="store_true")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        if arguments.backend == "sqlite":
            url = f"sqlite+aiosqlite:///{folder / 'inbound.db'}"
            prepare(url, folder, RESIDENTS_DEFAULT)
            asyncio.run(measure(url, arguments.replies, arguments.profile))
            return
        with postgres_database() as created:
            if created is None:
                raise SystemExit("no PostgreSQL server to measure on")
            prepare(created, folder, RESIDENTS_DEFAULT)
            asyncio.run(measure(created, arguments.replies, arguments.profile))


if __name__ == "__main__":
    main()
