"""`outreach campaign status CAMPAIGN`'s live part: the per-channel table, and with --watch a progress
bar per channel, read again after each pause until the campaign is idle. The reading and the pause
are given (the command: the database and a few seconds' sleep; tests: their own), so the loop is
the same wherever it runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table

from outreach.campaigns.progress import CampaignProgress, ChannelProgress

COLUMNS = ("queued", "sent", "delivered", "failed", "unknown", "answered")


def progress_table(progress: CampaignProgress) -> Table:
    table = Table("channel", *COLUMNS, title="messages by channel (answered: residents)")
    for channel in progress.channels:
        table.add_row(channel.channel, *(str(getattr(channel, column)) for column in COLUMNS))
    return table


def waiting_line(progress: CampaignProgress) -> str | None:
    if not progress.waiting:
        return None
    why = "while the campaign is paused" if progress.status == "paused" else "(quiet hours, a retry's back-off)"
    return f"{progress.waiting} message{'s' if progress.waiting != 1 else ''} wait to be sent later {why}"


def _counts(channel: ChannelProgress) -> str:
    return ", ".join(f"{column} {getattr(channel, column)}" for column in COLUMNS)


async def watch(
    read: Callable[[], Awaitable[CampaignProgress]], pause: Callable[[], Awaitable[None]], console: Console
) -> CampaignProgress:
    """Show each channel's messages settled out of its total, read again after each `pause`, until the
    campaign is idle; then the table. The last reading."""
    bars = Progress(
        TextColumn("{task.description:<9}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[counts]}"),
        console=console,
        auto_refresh=False,  # redrawn after each reading, not on a timer
    )
    tasks: dict[str, TaskID] = {}
    with bars:
        while True:
            progress = await read()
            for channel in progress.channels:
                if channel.channel not in tasks:
                    tasks[channel.channel] = bars.add_task(channel.channel, counts="")
                bars.update(
                    tasks[channel.channel], total=channel.total, completed=channel.settled, counts=_counts(channel)
                )
            bars.refresh()
            if progress.idle:
                break
            await pause()
    console.print(progress_table(progress))
    return progress
