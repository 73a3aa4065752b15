"""Importing residents from the CSV format of PRODUCT.md, and storing rows of it (the CLI's file and
the API's batches share `store_rows`).

Every good row goes in while every bad row is reported by its line number and why, never by its
values; the counts (created, updated, unchanged, rejected) add up to the rows read. A row whose
address a resident already owns leaves that resident as they were unless the official chose
otherwise (`OnMatch`). Each line is decoded by itself, so one bad byte rejects only its row.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from flows.age_bands import AGE_BAND, MINIMUM_AGE, age_band_of, under_minimum_age
from flows.languages import DEFAULT_LANGUAGE, LANGUAGES
from outreach.addresses import EMAIL, canonical_address
from outreach.campaigns.pseudonyms import pseudonym_key
from outreach.campaigns.recruitment import SERVICE_ATTRIBUTES, VIA_IMPORT, recruitment
from outreach.campaigns.suppressed_rows import SUPPRESSED_ROW, without_suppressed
from outreach.clock import Clock
from storage import failures
from storage.bulk import PlannerStatistics
from storage.bulk_load import bulk_load_sessions
from storage.consent_ledger import Because, Source
from storage.db import SessionFactory
from storage.residents import AddressConflict, AddressInput, NewResident, OnMatch, ResidentRepository, Upserted
from storage.tables import ADDRESS_LENGTH, ContactAddress

# A number given as `whatsapp` is a separate address with its own consent (WhatsApp is not SMS).
ADDRESS_COLUMNS = {"phone": "sms", "whatsapp": "whatsapp", "email": "email", "telegram_chat_id": "telegram"}
PHONE_COLUMNS = ("phone", "whatsapp")
KNOWN_COLUMNS = {*ADDRESS_COLUMNS, "language", "consent_source", "consent_at"}
# The widths of the columns a row is written to, checked before writing so that the database never
# refuses a row for its length (and a row it refuses anyway is rejected alone, by line).
ADDRESS_LIMIT: int = ADDRESS_LENGTH
CONSENT_SOURCE_LIMIT: int = ContactAddress.__table__.c.consent_source.type.length  # type: ignore[attr-defined]
# Attributes are JSON (no width), but they are labels to split results on: names and values are short.
ATTRIBUTE_NAME_LIMIT = 64
ATTRIBUTE_VALUE_LIMIT = 200
TELEGRAM_CHAT_ID_DIGITS = 20  # a 64-bit number
# A consent time written without an offset is the city's local time.
LOCAL_ZONE = ZoneInfo("Europe/Warsaw")
NOT_UTF8 = "not UTF-8 text; save the file as CSV UTF-8"
# Rows per transaction: a batch costs a few statements whatever its size (storage.bulk), and stays small
# in memory (a few MB) and short enough that other writers wait for SQLite's lock a moment only.
BATCH_SIZE = 2000


class ImportFileError(Exception):
    """The file as a whole cannot be read (missing, not CSV, no address column)."""


@dataclass(frozen=True)
class ResidentRow:
    line: int
    addresses: list[AddressInput]
    language: str
    attributes: dict[str, str]


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


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


def _decoded_lines(handle: BinaryIO) -> Iterator[str]:
    """The file's lines, each decoded by itself: a byte that is not UTF-8 becomes a lone surrogate
    (which no valid text holds), so it marks its own row as unreadable and nothing else."""
    for number, raw in enumerate(handle):
        yield (raw.removeprefix(codecs.BOM_UTF8) if number == 0 else raw).decode("utf-8", "surrogateescape")


def _records(path: Path) -> Iterator[tuple[list[str], int, list[str] | csv.Error]]:
    """The header, then each non-blank record with the line it starts on (or the CSV error there).
    After a broken record the reader goes on at the next line."""
    try:
        handle = path.open("rb")
    except OSError as error:
        raise ImportFileError(f"{path}: cannot open ({error.strerror})") from None
    with handle:
        reader = csv.reader(_decoded_lines(handle))
        try:
            header = [name.strip() for name in next(reader, [])]
        except csv.Error as error:
            raise ImportFileError(f"{path}:1: the header is not CSV ({error})") from None
        if not all(_is_text(name) for name in header):
            raise ImportFileError(f"{path}:1: {NOT_UTF8}")
        if not ADDRESS_COLUMNS.keys() & set(header):
            raise ImportFileError(
                f"{path}:1: the header needs at least one address column ({', '.join(ADDRESS_COLUMNS)});"
                f" found: {', '.join(header) or 'nothing'}"
            )
        while True:
            start = reader.line_num + 1
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                yield header, start, error
                continue
            if fields:  # a blank line is no row
                yield header, start, fields


def read_rows(path: Path, *, region: str, age_bands: Sequence[str]) -> Iterator[ResidentRow | RowError]:
    for header, line, fields in _records(path):
        if isinstance(fields, csv.Error):
            yield RowError(line, f"broken CSV: {fields}")
            continue
        record: dict[str | None, str | None] = dict(zip(header, fields, strict=False))
        if len(fields) > len(header):
            record[None] = "surplus"
        yield parse_row(line, record, region=region, age_bands=age_bands)


def count_rows(path: Path) -> int | None:
    """The data rows of the file (for a progress bar), None when it cannot be read."""
    try:
        return sum(1 for _ in _records(path))
    except (ImportFileError, OSError):
        return None


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: an undecodable byte of the file, or bad JSON text
        return False
    return True


def parse_row(
    line: int, record: dict[str | None, str | None], *, region: str, age_bands: Sequence[str]
) -> ResidentRow | RowError:
    """One row; `age_bands` (the setting's) are the bands an age_band may name (an age becomes its band)."""
    if None in record:
        return RowError(line, "more fields than the header has columns")
    # The row's names and values checked as one text: a lone surrogate or a NUL in any is in the whole.
    texts = "".join(filter(None, (*record, *record.values())))  # no None key here: refused above
    if not _is_text(texts):
        return RowError(line, NOT_UTF8)
    if "\x00" in texts:
        return RowError(line, "fields cannot contain the NUL character")
    values = {str(key).strip(): (value or "").strip() for key, value in record.items()}
    problems = _field_problems(values)
    consent_source = values.get("consent_source") or None
    consent_at = _parse_time(values.get("consent_at", ""), problems)
    if consent_source is None:
        problems.append("consent_source is empty: say where the resident agreed to be asked")
    elif len(consent_source) > CONSENT_SOURCE_LIMIT:
        problems.append(f"consent_source is longer than {CONSENT_SOURCE_LIMIT} characters")
    addresses: list[AddressInput] = []
    for column, channel in ADDRESS_COLUMNS.items():
        raw = values.get(column, "")
        if raw:
            address = _normalise(column, raw, region, problems)
            if address is not None:
                addresses.append(AddressInput(channel, address, consent_source, consent_at))
    if not any(values.get(column) for column in ADDRESS_COLUMNS):
        problems.append("no address: give a phone, a whatsapp number, an email or a telegram_chat_id")
    language = values.get("language", "").lower() or DEFAULT_LANGUAGE
    if language not in LANGUAGES:
        # Named only when it looks like a language code: a shifted column must not echo an address here.
        named = f" '{language}'" if len(language) <= 8 and language.replace("-", "").isalpha() else ""
        problems.append(f"language{named} is not one of {', '.join(LANGUAGES)}")
    band = _age_band(values.get(AGE_BAND, ""), age_bands, problems)
    if problems:
        return RowError(line, "; ".join(problems))
    attributes = {key: value for key, value in values.items() if key not in KNOWN_COLUMNS and value}
    if band is not None:
        attributes[AGE_BAND] = band
    return ResidentRow(line=line, addresses=addresses, language=language, attributes=attributes)


def _age_band(written: str, age_bands: Sequence[str], problems: list[str]) -> str | None:
    """The band an age_band field names, as the setting writes it; None when the field is empty or
    names none, or an age or band under 16 (a problem then, without the value: nobody under 16 is enrolled)."""
    if not written:
        return None
    if under_minimum_age(written):
        problems.append(f"age_band is under {MINIMUM_AGE}: residents under {MINIMUM_AGE} are not enrolled")
        return None
    band = age_band_of(written, age_bands)
    if band is None:
        problems.append(
            f"age_band is neither one of the age bands {', '.join(age_bands)} (OUTREACH_AGE_BANDS) nor an age in them"
        )
    return band


def _field_problems(values: dict[str, str]) -> list[str]:
    """Names and lengths the store cannot hold, and the attributes only the service sets."""
    problems = []
    for name, value in values.items():
        if len(name) > ATTRIBUTE_NAME_LIMIT:
            problems.append(f"a field name is longer than {ATTRIBUTE_NAME_LIMIT} characters")
        elif name in SERVICE_ATTRIBUTES:
            problems.append(f"{name} is set by the service, not by the file")
        elif name not in KNOWN_COLUMNS and len(value) > ATTRIBUTE_VALUE_LIMIT:
            problems.append(f"{name} is longer than {ATTRIBUTE_VALUE_LIMIT} characters")
    return problems


def normalised_address(column: str, raw: str, region: str) -> str | None:
    """An address as an import stores it (`column`: phone, whatsapp, email, telegram_chat_id), or None
    when it is not one: what a resident's access or erasure request looks an address up by."""
    return _normalise(column, raw, region, [])


def _normalise(column: str, raw: str, region: str, problems: list[str]) -> str | None:
    # Messages name the column, never the value: an import report is personal data otherwise.
    if column in PHONE_COLUMNS:
        try:
            number = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number):
            problems.append(f"{column} is not a valid number (region {region} is assumed without a +prefix)")
            return None
        return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    if column == "email":
        try:
            address = canonical_address(EMAIL, str(validate_email(raw, check_deliverability=False).normalized))
        except EmailNotValidError:
            problems.append("email is not a valid address")
            return None
    else:
        if not (raw.isascii() and raw.isdigit() and len(raw) <= TELEGRAM_CHAT_ID_DIGITS):
            problems.append(f"telegram_chat_id must be the numeric chat id (at most {TELEGRAM_CHAT_ID_DIGITS} digits)")
            return None
        address = raw
    if len(address) > ADDRESS_LIMIT:
        problems.append(f"{column} is longer than {ADDRESS_LIMIT} characters")
        return None
    return address


def _parse_time(raw: str, problems: list[str]) -> datetime | None:
    if not raw:
        problems.append("consent_at is empty: give the date and time of consent (ISO 8601)")
        return None
    try:
        parsed = datetime.fromisoformat(raw)
        parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=LOCAL_ZONE)
        parsed.astimezone(UTC)  # the store keeps UTC: a moment beyond its range of dates is no date
    except (ValueError, OverflowError):
        problems.append("consent_at is not an ISO 8601 date and time (e.g. 2026-03-01T12:00:00+01:00)")
        return None
    return parsed


async def store_rows(
    sessions: SessionFactory,
    rows: Iterable[ResidentRow | RowError],
    *,
    clock: Clock,
    label: str,
    on_match: OnMatch = OnMatch.SKIP,
    on_row: Callable[[], None] = lambda: None,
    on_batch: BatchDone = _nothing_to_tell,
    batch_size: int = BATCH_SIZE,
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
    left out."""
    report = ImportReport()
    because = Because(source, detail=label)
    recruited = recruitment(VIA_IMPORT, label)
    statistics = PlannerStatistics("residents", "contact_addresses")
    async with bulk_load_sessions(sessions) as load_sessions:
        for batch in _batches(rows, batch_size, on_row):
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


def _batches(
    rows: Iterable[ResidentRow | RowError], size: int, on_row: Callable[[], None]
) -> Iterator[list[ResidentRow | RowError]]:
    batch: list[ResidentRow | RowError] = []
    for row in rows:
        on_row()
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
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
    on_row: Callable[[], None] = lambda: None,
    on_batch: BatchDone = _nothing_to_tell,
    batch_size: int = BATCH_SIZE,
    source: Source = Source.IMPORT,
    pseudonym_secret: str | None = None,
) -> ImportReport:
    """Import a residents file; `label` (by default the file's name) is their recruitment source, and
    with `source` the consent ledger's word for where the consents came from.
    The CLI and the API's import jobs both import through here: `on_row` moves a progress bar, `on_batch`
    is awaited with the report so far after each batch is committed."""
    return await store_rows(
        sessions,
        read_rows(path, region=region, age_bands=age_bands),
        clock=clock,
        label=label or path.name,
        on_match=on_match,
        on_row=on_row,
        on_batch=on_batch,
        batch_size=batch_size,
        source=source,
        pseudonym_secret=pseudonym_secret,
    )
