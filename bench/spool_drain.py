"""How fast the inbound spool is written and drained, beside the pipeline alone (issue 18, outage rounds).

    PYTHONPATH=. .venv/bin/python bench/spool_drain.py [--count 1000] [--database-url URL]

COUNT replies from unknown senders are spooled one at a time (each file fsync'd, its directory too),
then applied by one flusher round; the same number of replies then goes straight through the pipeline
(the baseline: what the database takes). Default: a new SQLite file in a temporary folder. A PostgreSQL
URL must name an empty database made for this (it is migrated and written to). Prints, writes nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from channels.base import Inbound
from outreach.bootstrap import bootstrap
from outreach.inbound.spool_flusher import SpoolFlusher
from outreach.settings import Settings
from storage.migrate import upgrade


def reply(prefix: str, number: int, now: datetime) -> Inbound:
    """A reply from a number no resident has (stored as an event, nothing more); `prefix` keeps runs apart."""
    exchange = 600 if prefix == "SM" else 601
    return Inbound("sms", f"{prefix}{number:032d}", f"+48{exchange}{number:06d}", "tak", received_at=now)


async def run(database_url: str | None, count: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="spool-bench-"))
    url = database_url or f"sqlite+aiosqlite:///{folder / 'bench.db'}"
    services = bootstrap(Settings(database_url=url, spool_dir=folder / "spool", _env_file=None))
    try:
        await upgrade(services.engine)
        now = datetime.now(UTC)
        started = time.perf_counter()
        for number in range(count):
            await services.spool.put(reply("SM", number, now), arrived_at=now)
        written = time.perf_counter() - started
        started = time.perf_counter()
        done = await SpoolFlusher(services.spool, services).flush()
        drained = time.perf_counter() - started
        started = time.perf_counter()
        for number in range(count):
            await services.pipeline.handle(reply("SX", number, now))
        direct = time.perf_counter() - started
    finally:
        await services.close()
    print(f"database: {url.split(':')[0]}; load average {os.getloadavg()[0]:.2f}")
    print(f"spooled:  {count} in {written:.2f} s: {written / count * 1000:.2f} ms a reply (one at a time)")
    print(f"drained:  {done.applied} in {drained:.2f} s: {done.applied / drained:.0f} replies/s")
    print(f"baseline: the pipeline alone, {count / direct:.0f} replies/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--database-url", default=None)
    arguments = parser.parse_args()
    asyncio.run(run(arguments.database_url, arguments.count))


if __name__ == "__main__":
    main()
