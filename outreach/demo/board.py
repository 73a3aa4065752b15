"""The live board: what the service has done so far (an outbox and conversations snapshot) beside
what the crowd is doing, shown as progress bars until the consultation is over or time is up."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from outreach.bootstrap import Services
from outreach.demo.crowd import Crowd
from outreach.demo.service import DEMO_START
from storage.campaigns import ConversationRepository
from storage.db import read_session
from storage.outbox import OutboxRepository

REFRESH_SECONDS = 0.25


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
