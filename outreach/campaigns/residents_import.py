"""Storing residents: the rows of a residents file (`import_residents`) and the API's batches
(`store_rows`), both through `store_batches`.

Every good row goes in while every bad row is reported by its line number and why, never by its
values; the counts (created, updated, unchanged, rejected) add up to the rows read. A row whose
address a resident already owns leaves that resident as they were unless the official chose
otherwise (`OnMatch`). Reading and checking rows is resident_rows' job; a large file's next rows are
checked in another process while these are written (parse_ahead).
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from outreach.campaigns.parse_ahead import PROCESS_FROM_BYTES, batches_of, parsed_batches
from outreach.campaigns.pseudonyms import pseudonym_key
from outreach.campaigns.recruitment import VIA_IMPORT, recruitment
from outreach.campaigns.resident_rows import ResidentRow, RowError
from outreach.campaigns.suppressed_rows import SUPPRESSED_ROW, without_suppressed
from outreach.clock import Clock
from storage import failures
from storage.bulk import PlannerStatistics
from storage.bulk_load import bulk_load_sessions
from storage.consent_ledger import Because, Source
from storage.db import SessionFactory
from storage.residents import AddressConflict, NewResident, OnMatch, ResidentRepository, Upserted

# Rows per transaction: a batch costs a few statements whatever its size (storage.bulk), and stays small
# in memory (a few MB) and short enough that other writers wait for SQLite's lock a moment only.
BATCH_SIZE = 2000


@dataclass
class ImportReport:
    rows: int = 0  # data rows read; created + updated + unchanged + rejected add up to it
    created: int = 0
    updated: int = 0
    unchanged: int = 0  # an address already known (and left as it was), or nothing new in the row
    errors: list[RowError] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return self.created + self.updated + self.unchanged


BatchDone = Callable[[ImportReport], Awaitable[None]]  # told the report so far after each batch commits


async def _nothing_to_tell(report: ImportReport) -> None:
    del report


async def store_rows(
    sessions: SessionFactory,
    rows: Iterable[ResidentRow | RowError],
    *,
    clock: Clock,
    label: str,
    on_match: OnMatch = OnMatch.SKIP,
    batch_size: int = BATCH_SIZE,
    source: Source = Source.IMPORT,
    pseudonym_secret: str | None = None,
) -> ImportReport:
    """Rows checked already (the API's batch), stored as `store_batches` stores a file's."""
    return await store_batches(
        sessions,
        _batches(rows, batch_size),
        clock=clock,
        label=label,
        on_match=on_match,
        source=source,
        pseudonym_secret=pseudonym_secret,
    )


async def store_batches(
    sessions: SessionFactory,
    batches: AsyncIterable[list[ResidentRow | RowError]],
    *,
    clock: Clock,
    label: str,
    on_match: OnMatch = OnMatch.SKIP,
    on_rows: Callable[[int], None] = lambda count: None,
    on_batch: BatchDone = _nothing_to_tell,
    source: Source = Source.IMPORT,
    pseudonym_secret: str | None = None,
) -> ImportReport:
    """Write the good rows, count what each did, keep the bad ones; an outage aborts. One transaction
    per batch: the rows whose addresses nobody has yet are created set-based (storage.bulk), the rest
    (an address stored already, or met earlier in the batch) row by row in a savepoint each, in file
    order. When the database refuses the set-based write, the whole batch goes row by row, so a row
    it refuses is still rejected alone, by its line. Each consent stated goes into the consent
    ledger as from `source` (the file or the API), with the label. Suppressed addresses (an erased
    resident's opt-out, hashed with the pseudonym key: `pseudonym_secret` or the installation's) are
    left out. `on_rows` is told how many rows each batch read, before it is written."""
    report = ImportReport()
    because = Because(source, detail=label)
    recruited = recruitment(VIA_IMPORT, label)
    statistics = PlannerStatistics("residents", "contact_addresses")
    async with bulk_load_sessions(sessions) as load_sessions:
        async for batch in batches:
            on_rows(len(batch))
            report.rows += len(batch)
            good = [row for row in batch if isinstance(row, ResidentRow)]
            errors = [row for row in batch if isinstance(row, RowError)]
            async with load_sessions() as session, session.begin():
                key = await pseudonym_key(session, pseudonym_secret, now=clock())
                good, suppressed_lines = await without_suppressed(session, key, good)
                errors.extend(RowError(line, SUPPRESSED_ROW) for line in suppressed_lines)
                residents = ResidentRepository(session)
                fresh, known, one_by_one = await _sorted_rows(residents, good, on_match)
                report.unchanged += known
                if fresh:
                    try:
                        async with session.begin_nested():
                            await residents.create_many(
                                [NewResident(row.addresses, row.language, row.attributes) for row in fresh],
                                now=clock(),
                                because=because,
                                set_once=recruited,
                            )
                        report.created += len(fresh)
                        await statistics.wrote(session, len(fresh))
                    except DBAPIError as error:
                        if failures.classify(error) is failures.StoreFailure.OUTAGE:
                            raise
                        one_by_one = sorted([*fresh, *one_by_one], key=lambda row: row.line)
                for row in one_by_one:
                    outcome = await _store_one(
                        session, residents, row, clock=clock, on_match=on_match, once=recruited, because=because
                    )
                    if isinstance(outcome, RowError):
                        errors.append(outcome)
                    else:
                        _count(report, outcome)
            report.errors.extend(sorted(errors, key=lambda error: error.line))
            await on_batch(report)
    return report


async def _batches(rows: Iterable[ResidentRow | RowError], size: int) -> AsyncIterator[list[ResidentRow | RowError]]:
    for batch in batches_of(rows, size):
        yield batch


async def _sorted_rows(
    residents: ResidentRepository, rows: list[ResidentRow], on_match: OnMatch
) -> tuple[list[ResidentRow], int, list[ResidentRow]]:
    """The batch's rows that create a resident nobody else's row touches (written set-based), how
    many leave a resident as they were (skip, and an address is stored already: nothing to write),
    and the rest, to be written one by one in file order. A row sharing an address with an earlier
    row of the batch goes one by one, after the earlier one is written, as the file orders them."""
    owners = await residents.owners_of((given.channel, given.address) for row in rows for given in row.addresses)
    fresh: list[ResidentRow] = []
    one_by_one: list[ResidentRow] = []
    known = 0
    seen: set[tuple[str, str]] = set()
    for row in rows:
        keys = {(given.channel, given.address) for given in row.addresses}
        if keys & seen:
            one_by_one.append(row)
        elif keys & owners.keys():
            if on_match is OnMatch.SKIP:
                known += 1
            else:
                one_by_one.append(row)
        else:
            fresh.append(row)
        seen |= keys
    return fresh, known, one_by_one


async def _store_one(
    session: AsyncSession,
    residents: ResidentRepository,
    row: ResidentRow,
    *,
    clock: Clock,
    on_match: OnMatch,
    once: Mapping[str, str],
    because: Because,
) -> Upserted | RowError:
    """One row in its own savepoint: what it did, or why it was rejected."""
    try:
        async with session.begin_nested():
            _, done = await residents.upsert(
                addresses=row.addresses,
                language=row.language,
                attributes=row.attributes,
                now=clock(),
                because=because,
                on_match=on_match,
                set_once=once,
            )
    except AddressConflict as conflict:
        return RowError(row.line, str(conflict))
    except DBAPIError as error:
        if failures.classify(error) is failures.StoreFailure.OUTAGE:
            raise
        # The kind of refusal in words, never the database's message (it may quote the value).
        return RowError(row.line, f"the store refused the row: {failures.reason(error)}")
    return done


def _count(report: ImportReport, done: Upserted) -> None:
    if done is Upserted.CREATED:
        report.created += 1
    elif done is Upserted.UPDATED:
        report.updated += 1
    else:
        report.unchanged += 1


async def import_residents(
    sessions: SessionFactory,
    path: Path,
    *,
    region: str,
    clock: Clock,
    age_bands: Sequence[str],
    on_match: OnMatch = OnMatch.SKIP,
    label: str | None = None,
    on_rows: Callable[[int], None] = lambda count: None,
    on_batch: BatchDone = _nothing_to_tell,
    batch_size: int = BATCH_SIZE,
    source: Source = Source.IMPORT,
    pseudonym_secret: str | None = None,
    parse_apart_from_bytes: int = PROCESS_FROM_BYTES,
) -> ImportReport:
    """Import a residents file; `label` (by default the file's name) is their recruitment source, and
    with `source` the consent ledger's word for where the consents came from.
    The CLI and the API's import jobs both import through here: `on_rows` moves a progress bar, `on_batch`
    is awaited with the report so far after each batch is committed. A file of `parse_apart_from_bytes`
    or more is checked in a process of its own while this one writes (parse_ahead)."""
    batches = parsed_batches(
        path, region=region, age_bands=age_bands, batch_size=batch_size, process_from_bytes=parse_apart_from_bytes
    )
    async with aclosing(batches):
        return await store_batches(
            sessions,
            batches,
            clock=clock,
            label=label or path.name,
            on_match=on_match,
            on_rows=on_rows,
            on_batch=on_batch,
            source=source,
            pseudonym_secret=pseudonym_secret,
        )
