"""A large residents file is checked by a process of its own: the same rows in the same order and
batches as checked here, its errors told, and the process gone when the import stops."""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import AsyncGenerator
from contextlib import aclosing
from pathlib import Path

import pytest

from flows.age_bands import DEFAULT_AGE_BANDS
from outreach.campaigns import resident_rows
from outreach.campaigns.parse_ahead import CRASHED, Batch, ParsingFailed, parse_into, parsed_batches
from outreach.campaigns.resident_rows import ImportFileError, ResidentRow, RowError, read_rows

HEADER = "phone,email,language,district,age_band,consent_source,consent_at\n"


@pytest.fixture(autouse=True)
def two_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on the machines the service runs on, whatever this one has (a parser runs where two CPUs are)."""
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})


def good_line(number: int) -> str:
    return f"+48600{100000 + number},,pl,Oliwa,37,register,2026-01-10T12:00:00+01:00\n"


def mixed_file(path: Path, rows: int) -> Path:
    """Good rows, with a bad phone, a field too large for CSV, a bad byte and bad everything among them."""
    lines = [good_line(number).encode() for number in range(rows)]
    lines[3] = b"12345,,pl,Oliwa,37,register,2026-01-10T12:00:00+01:00\n"
    lines[5] = lines[5].replace(b"Oliwa", b"x" * 140 * 1024)  # over the csv module's field limit: broken CSV
    lines[9] = lines[9].replace(b"Oliwa", b"Oliwa\xff")
    lines[11] = b",not-an-email,pl,Oliwa,15,register,yesterday\n"
    path.write_bytes(HEADER.encode() + b"".join(lines))
    return path


def spawned_parsers() -> list[multiprocessing.process.BaseProcess]:
    """This process's parsers as multiprocessing knows them (their exit codes too; tests/parsers finds
    them under /proc, for an import running in another thread)."""
    return [child for child in multiprocessing.active_children() if child.name == "outreach-parse"]


def batches(path: Path, *, batch_size: int, process_from_bytes: int = 0) -> AsyncGenerator[Batch, None]:
    return parsed_batches(
        path, region="PL", age_bands=DEFAULT_AGE_BANDS, batch_size=batch_size, process_from_bytes=process_from_bytes
    )


async def test_a_file_checked_by_a_parsing_process_gives_the_rows_checked_here(tmp_path: Path) -> None:
    path = mixed_file(tmp_path / "register.csv", 40)
    here = list(read_rows(path, region="PL", age_bands=DEFAULT_AGE_BANDS))
    taken: list[Batch] = []
    async with aclosing(batches(path, batch_size=7)) as apart:
        async for batch in apart:
            taken.append(batch)
            assert len(spawned_parsers()) == 1  # checked apart, not here
    assert [len(batch) for batch in taken] == [7, 7, 7, 7, 7, 5]
    assert [row for batch in taken for row in batch] == here
    assert sum(isinstance(row, RowError) for row in here) == 4 and isinstance(here[0], ResidentRow)
    assert spawned_parsers() == []


async def test_a_small_file_is_checked_here(tmp_path: Path) -> None:
    path = mixed_file(tmp_path / "register.csv", 20)
    async with aclosing(batches(path, batch_size=7, process_from_bytes=path.stat().st_size + 1)) as here:
        async for _ in here:
            assert spawned_parsers() == []


async def test_on_one_cpu_a_large_file_is_checked_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A container limited to one CPU: a parsing process would only take turns with the importer."""
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    path = mixed_file(tmp_path / "register.csv", 20)
    taken: list[Batch] = []
    async with aclosing(batches(path, batch_size=7)) as here:
        async for batch in here:
            assert spawned_parsers() == []
            taken.append(batch)
    assert [row for batch in taken for row in batch] == list(read_rows(path, region="PL", age_bands=DEFAULT_AGE_BANDS))


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"language,district\npl,Oliwa\n", "the header needs at least one address column"),
        (b"phone," + b"x" * 140 * 1024 + b"\n+48600100200\n", "the header is not CSV"),
    ],
)
async def test_a_file_that_cannot_be_read_is_told_at_the_first_step(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    path = tmp_path / "register.csv"
    path.write_bytes(content)
    with pytest.raises(ImportFileError, match=problem) as apart:
        async with aclosing(batches(path, batch_size=7)) as taken:
            await anext(taken)
    with pytest.raises(ImportFileError) as here:
        list(read_rows(path, region="PL", age_bands=DEFAULT_AGE_BANDS))
    assert str(apart.value) == str(here.value)
    assert spawned_parsers() == []


async def test_an_import_that_stops_early_stops_its_parsing_process(tmp_path: Path) -> None:
    path = mixed_file(tmp_path / "register.csv", 20_000)
    async with aclosing(batches(path, batch_size=10)) as taken:
        assert len(await anext(taken)) == 10
        (parser,) = spawned_parsers()
    assert not parser.is_alive()
    assert parser.exitcode == -signal.SIGTERM  # stopped at once, not left to parse the other 19,990 rows


async def test_a_parsing_process_that_dies_fails_the_import_instead_of_ending_it_short(tmp_path: Path) -> None:
    path = mixed_file(tmp_path / "register.csv", 20_000)
    rows = 0
    with pytest.raises(ParsingFailed, match="ended without a word"):
        async with aclosing(batches(path, batch_size=10)) as taken:
            async for batch in taken:
                if rows == 0:
                    (parser,) = spawned_parsers()
                    assert parser.pid is not None
                    os.kill(parser.pid, signal.SIGKILL)
                rows += len(batch)
    assert 0 < rows < 20_000
    assert spawned_parsers() == []


async def test_a_ctrl_c_at_the_terminal_leaves_stopping_to_the_importer(tmp_path: Path) -> None:
    """SIGINT goes to the whole process group: the parser neither dies nor prints a traceback of its own."""
    path = mixed_file(tmp_path / "register.csv", 3_000)
    taken: list[Batch] = []
    async with aclosing(batches(path, batch_size=100)) as apart:
        async for batch in apart:
            if not taken:
                (parser,) = spawned_parsers()
                assert parser.pid is not None
                os.kill(parser.pid, signal.SIGINT)
            taken.append(batch)
    assert [row for batch in taken for row in batch] == list(read_rows(path, region="PL", age_bands=DEFAULT_AGE_BANDS))


def test_a_defect_in_the_parser_is_told_where_it_happened_without_the_rows_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the importer logs, and an import job stores for the API, never quotes a resident's field."""

    def broken(column: str, raw: str, region: str, problems: list[str]) -> str:
        raise ValueError(f"cannot take {raw}")  # a defect whose message quotes the value

    monkeypatch.setattr(resident_rows, "_normalise", broken)
    path = tmp_path / "register.csv"
    path.write_text(HEADER + good_line(0), encoding="utf-8")
    receiving, sending = multiprocessing.Pipe(duplex=False)
    interrupt = signal.getsignal(signal.SIGINT)
    try:
        parse_into(sending, path, "PL", DEFAULT_AGE_BANDS, 10)  # here, where the defect is patched in
    finally:
        signal.signal(signal.SIGINT, interrupt)
    kind, told = receiving.recv()
    assert kind == CRASHED
    assert "in broken" in told and told.endswith("ValueError (its message left out)")
    assert "600100000" not in told  # the message ("cannot take +48600100000") is not in it; the code line is
