"""The `outreach serve` OS processes of a crash round (issue 18): started on one database behind a
balancer, killed with SIGKILL from outside or by a test-only fault point (outreach.faults), restarted.

Each worker slot keeps one log file over its lives (stderr, appended), where a fault point that fired
says which event it was, and reconciliation says what it resent.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from tests.servers.ports import spare_port

READY_SECONDS = 60.0  # a start on a loaded 2-CPU machine took 13 s


# What a slot runs: `serve` (everything), `web` (`serve --web-only`: stores and answers webhook messages)
# or `work` (`outreach work`: handles them and sends; no HTTP).
COMMANDS = {"serve": ["serve"], "web": ["serve", "--web-only"], "work": ["work"]}


@dataclass
class Worker:
    slot: int
    port: int
    log: Path
    role: str = "serve"
    process: subprocess.Popen[bytes] | None = None
    fault: str | None = None
    lives: list[tuple[str | None, int | None]] = field(default_factory=list)  # (fault point, exit status)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


class Workers:
    """`count` processes on `settings` (OUTREACH_* environment values), each serving on a port of its own
    but a `work` one; `roles` says what each runs (COMMANDS; `serve` unless told)."""

    def __init__(self, settings: dict[str, str], folder: Path, count: int, roles: tuple[str, ...] = ()) -> None:
        self.settings = settings
        roles = roles or ("serve",) * count
        assert len(roles) == count and set(roles) <= set(COMMANDS)
        self.workers = [
            Worker(slot, spare_port(), folder / f"worker-{slot}.log", role) for slot, role in enumerate(roles)
        ]
        self.kills = 0  # from outside

    async def __aenter__(self) -> Workers:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    @property
    def ports(self) -> list[int]:
        """Where the balancer sends requests: every slot with HTTP."""
        return [worker.port for worker in self.workers if worker.role != "work"]

    def _environment(self, fault: str | None) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("OUTREACH_")}
        env.update(self.settings)
        if fault is not None:
            env["OUTREACH_FAULT_POINT"] = fault
        return env

    async def start(self, slot: int, fault: str | None = None) -> None:
        """Start the slot's worker (its last life must have ended) and wait until it serves."""
        worker = self.workers[slot]
        assert not worker.alive
        worker.fault = fault
        worker.process = self._spawn(worker, fault)
        await self._ready(worker)

    def _spawn(self, worker: Worker, fault: str | None) -> subprocess.Popen[bytes]:
        with worker.log.open("ab") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "outreach.cli", *COMMANDS[worker.role]]
                + (["--port", str(worker.port)] if worker.role != "work" else []),
                env=self._environment(fault),
                stdout=subprocess.DEVNULL,
                stderr=log,
            )

    async def _ready(self, worker: Worker) -> None:
        if worker.role == "work":  # nothing to ask: what it handles waits in the database until it runs
            return
        deadline = asyncio.get_running_loop().time() + READY_SECONDS
        async with aiohttp.ClientSession() as session:
            while worker.alive:
                try:
                    async with session.get(f"http://127.0.0.1:{worker.port}/healthz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                if asyncio.get_running_loop().time() > deadline:
                    raise AssertionError(f"worker {worker.slot} did not serve within {READY_SECONDS} s")
                await asyncio.sleep(0.05)
        # Died before it served: a fault point may fire that early; its supervisor restarts it.

    def kill(self, slot: int) -> bool:
        """SIGKILL from outside; False when it was not running."""
        worker = self.workers[slot]
        if not worker.alive:
            return False
        assert worker.process is not None
        worker.process.send_signal(signal.SIGKILL)
        worker.process.wait()
        self.kills += 1
        return True

    async def restart_clean(self, slot: int) -> None:
        """The slot's worker running without a fault point: one still armed is stopped (SIGTERM) first."""
        worker = self.workers[slot]
        if worker.alive and worker.fault is not None:
            assert worker.process is not None
            worker.process.send_signal(signal.SIGTERM)
            await asyncio.to_thread(worker.process.wait, 30)
        self.ended(slot)
        if not worker.alive:
            await self.start(slot)

    def ended(self, slot: int) -> bool:
        """Whether the slot's worker ended; its life is then recorded (once)."""
        worker = self.workers[slot]
        if worker.process is None or worker.process.poll() is None:
            return False
        worker.lives.append((worker.fault, worker.process.returncode))
        worker.process = None
        return True

    def fired(self) -> list[str]:
        """The fault points that fired, as the workers said in their logs."""
        return [
            line.split()[2]
            for worker in self.workers
            if worker.log.exists()
            for line in worker.log.read_text(errors="replace").splitlines()
            if line.startswith("fault point ")
        ]

    def logs(self) -> str:
        return "\n".join(worker.log.read_text(errors="replace") for worker in self.workers if worker.log.exists())

    async def stop(self) -> None:
        """SIGTERM each (serve drains), SIGKILL what does not end in time."""
        for worker in self.workers:
            if worker.alive:
                assert worker.process is not None
                worker.process.send_signal(signal.SIGTERM)
        for worker in self.workers:
            if worker.process is not None:
                try:
                    await asyncio.to_thread(worker.process.wait, 30)
                except subprocess.TimeoutExpired:
                    worker.process.kill()
                    worker.process.wait()
