"""Two dispatcher OS processes drain one outbox: every key is sent exactly once, each sends a share."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from outreach.bootstrap import Services
from storage.outbox import NewMessage, OutboxRepository
from storage.residents import ResidentRepository
from tests.conftest import ManualClock
from tests.factories import add_resident

MESSAGES = 600  # 30 batches of 20 between two processes: claims race on every one


async def _queue(services: Services, count: int) -> None:
    resident = await add_resident(services, phone="+48600100200")
    async with services.sessions() as session, session.begin():
        contact = await ResidentRepository(session).contact_by_address("sms", "+48600100200")
        assert contact is not None and contact.id is not None and resident.id is not None
        outbox = OutboxRepository(session)
        for number in range(count):
            message = NewMessage(f"load:{number}", resident.id, contact.id, "system", f"message {number}")
            await outbox.enqueue(message, now=services.clock())


def _worker(
    database_url: str, delivery_log: Path, *, until_idle: bool = True, sms_per_second: int = 100_000
) -> subprocess.Popen[bytes]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("OUTREACH_")}
    env.update(
        OUTREACH_DATABASE_URL=database_url,
        OUTREACH_SANDBOX_DELIVERY_LOG=str(delivery_log),
        OUTREACH_SANDBOX_LATENCY_MS="10",  # a provider's round trip, so both workers overlap
        OUTREACH_DISPATCHER_BATCH_SIZE="20",
        OUTREACH_RATE_SMS_SEGMENTS_PER_SECOND=str(sms_per_second),  # the claim is under test, not the rate
        OUTREACH_LOG_LEVEL="WARNING",
    )
    return subprocess.Popen(
        [sys.executable, "-m", "outreach.cli", "dispatch", *(["--until-idle"] if until_idle else [])],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.mark.slow
async def test_two_worker_processes_send_every_key_exactly_once(
    services: Services, database_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    clock.now = datetime.now(UTC)  # the workers run on the wall clock: the rows must be due for them
    await _queue(services, MESSAGES)
    delivery_log = tmp_path / "deliveries.jsonl"
    workers = [_worker(database_url, delivery_log) for _ in range(2)]
    for worker in workers:
        _, stderr = worker.communicate(timeout=180)
        assert worker.returncode == 0, stderr.decode()
    deliveries = [json.loads(line) for line in delivery_log.read_text().splitlines()]
    sends_per_key = Counter(delivery["key"] for delivery in deliveries)
    assert len(sends_per_key) == MESSAGES
    assert set(sends_per_key.values()) == {1}, "a key was sent more than once"
    sends_per_process = Counter(delivery["pid"] for delivery in deliveries)
    assert len(sends_per_process) == 2, f"one process sent everything: {sends_per_process}"
    assert min(sends_per_process.values()) >= MESSAGES // 10
    async with services.sessions() as session:
        assert await OutboxRepository(session).count_by_status() == {"sent": MESSAGES}


@pytest.mark.slow
async def test_sigterm_stops_a_dispatch_worker_cleanly_leaving_no_send_in_flight(
    services: Services, database_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    """systemd stops a worker with SIGTERM: `outreach dispatch` finishes its sends in flight, hands its
    unstarted claims back and exits 0, so no message is left claimed or of unknown outcome."""
    clock.now = datetime.now(UTC)
    await _queue(services, 400)
    delivery_log = tmp_path / "deliveries.jsonl"
    # 20 a second: 400 messages would take 20 s, so the signal surely comes with sends still to go.
    worker = _worker(database_url, delivery_log, until_idle=False, sms_per_second=20)
    try:
        async with asyncio.timeout(60):
            # another process sends: its delivery log is the only signal there is
            while not delivery_log.exists() or not delivery_log.read_text():  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        worker.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.to_thread(worker.communicate, timeout=60)
    finally:
        if worker.returncode is None:
            worker.kill()
    assert worker.returncode == 0, stderr.decode()
    async with services.sessions() as session:
        statuses = await OutboxRepository(session).count_by_status()
    sent = len(delivery_log.read_text().splitlines())
    assert statuses.get("sent", 0) == sent and 0 < sent < 400
    assert set(statuses) <= {"sent", "queued"}, statuses  # nothing claimed, sending or unknown
