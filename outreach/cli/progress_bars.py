"""Progress bars of the long commands (`residents import`, `campaign launch`): drawn on a terminal,
and nothing at all when the output is piped or redirected, where a script or a log reads only the
summary line. Advancing is cheap (a bar is redrawn a few times a second, not per row)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn


@dataclass
class Bar:
    """A bar's task: how far it is and what it says beside the count."""

    progress: Progress
    task: TaskID
    done: int = 0

    def advance(self, by: int = 1) -> None:
        self.done += by
        if self.done % 500 < by:  # rich locks and recomputes on each update: every 500th row is plenty
            self.progress.update(self.task, completed=self.done)

    def show(self, done: int, said: str = "") -> None:
        self.done = done
        self.progress.update(self.task, completed=done, said=said)


def on_terminal(console: Console) -> bool:
    return console.is_terminal


@contextmanager
def progress_bar(console: Console, what: str, total: int | None) -> Iterator[Bar]:
    """A bar for `total` units (None: unknown, the bar only counts); invisible off a terminal."""
    progress = Progress(
        TextColumn(what),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[said]}"),
        TimeRemainingColumn(),
        console=console,
        disable=not on_terminal(console),
    )
    with progress:
        bar = Bar(progress, progress.add_task(what, total=total, said=""))
        yield bar
        progress.update(bar.task, completed=bar.done)
