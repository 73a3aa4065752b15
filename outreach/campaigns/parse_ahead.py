"""A residents file's rows, checked in batches by a process of its own while this one writes: checking
a row (phone numbers above all) costs about as much as storing it, so on two cores a large import
takes a third less time than in one (docs/BENCHMARKS.md has the figures).

The parsing process reads the file itself and sends each batch through a pipe, which holds it until
this process takes it: the parser is at most a batch or two ahead, so memory stays flat whatever the
file's size. A small file is read and checked in this process: starting another (a fresh interpreter
that imports the checks) costs more than the whole file; so is every file on a machine (or in a
container) with one CPU, where the parser would only take turns with the importer.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import traceback
from collections.abc import AsyncGenerator, Iterable, Iterator, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import cast

from outreach.campaigns.resident_rows import ImportFileError, ResidentRow, RowError, read_rows

# About 15,000 rows of a typical register: below it the file is checked in this process.
PROCESS_FROM_BYTES = 1_000_000
# What the parsing process sends: a batch, the end, or why it stopped.
BATCH, END, FILE_ERROR, CRASHED = "batch", "end", "file error", "crashed"
Batch = list[ResidentRow | RowError]


class ParsingFailed(Exception):
    """The parsing process died or failed on something other than the file (a defect, not a row)."""


async def parsed_batches(
    path: Path,
    *,
    region: str,
    age_bands: Sequence[str],
    batch_size: int,
    process_from_bytes: int = PROCESS_FROM_BYTES,
) -> AsyncGenerator[Batch, None]:
    """The file's rows, checked, in batches of `batch_size` in file order (ImportFileError at the
    first step when the file cannot be read). Close it (contextlib.aclosing) when not read to the
    end, so that the parsing process stops at once."""
    if _size(path) < process_from_bytes or _cores() < 2:
        for batch in _batches(path, region, age_bands, batch_size):
            yield batch
        return
    # spawn, not fork: this process has threads (the database driver's), which a fork would copy mid-step.
    context = multiprocessing.get_context("spawn")
    receiving, sending = context.Pipe(duplex=False)
    parser = context.Process(
        target=parse_into,
        args=(sending, path, region, tuple(age_bands), batch_size),
        name="outreach-parse",
        daemon=True,
    )
    parser.start()
    sending.close()  # the parser's end: with it closed here, a parser that dies ends the pipe
    try:
        while True:
            await _readable(receiving)
            kind, value = _next_message(receiving)  # the batch is whole in the pipe or on its way
            if kind == BATCH:
                yield cast(Batch, value)
            elif kind == END:
                return
            elif kind == FILE_ERROR:
                raise ImportFileError(str(value))
            else:
                raise ParsingFailed(f"the parsing process failed:\n{value}")
    finally:
        if parser.is_alive():
            parser.terminate()
        await asyncio.to_thread(parser.join)
        receiving.close()


def parse_into(sending: Connection, path: Path, region: str, age_bands: Sequence[str], batch_size: int) -> None:
    """The parsing process: each batch sent in turn, then the end (or the file's error, or a defect)."""
    # Ctrl-C at a terminal reaches the whole process group: the importer stops, then stops this one.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        for batch in _batches(path, region, age_bands, batch_size):
            sending.send((BATCH, batch))
        sending.send((END, None))
    except ImportFileError as error:
        sending.send((FILE_ERROR, str(error)))
    except (BrokenPipeError, ConnectionResetError):
        return  # the importer stopped reading: nothing to tell
    except Exception as error:  # a defect: where it happened goes to the importer, which stops
        sending.send((CRASHED, _without_values(error)))
    finally:
        sending.close()


def _without_values(error: Exception) -> str:
    """A defect's traceback with its kind but not its message, which may quote a resident's field: the
    importer logs it, and an import job stores it where the API reads it."""
    return "".join(traceback.format_tb(error.__traceback__)) + f"{type(error).__name__} (its message left out)"


async def _readable(receiving: Connection) -> None:
    """Until the pipe has something to read (or its end: the parser is gone), in the event loop: no
    thread waits on the pipe, so none is left reading it when the import stops."""
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()

    def wake() -> None:  # called on each turn of the loop while readable, until removed
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(receiving.fileno(), wake)
    try:
        await ready
    finally:
        loop.remove_reader(receiving.fileno())


def _next_message(receiving: Connection) -> tuple[str, Batch | str | None]:
    try:
        message: tuple[str, Batch | str | None] = receiving.recv()
    except EOFError:
        return CRASHED, "it ended without a word (killed, or out of memory?)"
    return message


def _batches(path: Path, region: str, age_bands: Sequence[str], size: int) -> Iterator[Batch]:
    return batches_of(read_rows(path, region=region, age_bands=age_bands), size)


def batches_of(rows: Iterable[ResidentRow | RowError], size: int) -> Iterator[Batch]:
    """`rows` in lists of `size` (the last may be shorter), in order."""
    batch: Batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _cores() -> int:
    """The CPUs this process may run on: on one, a parser would only take turns with the importer."""
    return len(os.sched_getaffinity(0))


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # reading it (here) says why
