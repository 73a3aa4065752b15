"""Importing residents from the CSV format of PRODUCT.md.

Good rows go in while bad rows are reported by their line number; importing the same file again
updates residents (matched by any of their addresses) and never duplicates them.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from flows.languages import DEFAULT_LANGUAGE, LANGUAGES
from outreach.clock import Clock
from storage.db import SessionFactory
from storage.residents import AddressConflict, AddressInput, ResidentRepository

# A number given as `whatsapp` is a separate address with its own consent (WhatsApp is not SMS).
ADDRESS_COLUMNS = {"phone": "sms", "whatsapp": "whatsapp", "email": "email", "telegram_chat_id": "telegram"}
PHONE_COLUMNS = ("phone", "whatsapp")
CONSENT_SOURCE_LIMIT = 120  # the column's size (storage.tables.ContactAddress.consent_source)
KNOWN_COLUMNS = {*ADDRESS_COLUMNS, "language", "consent_source", "consent_at"}
# A consent time written without an offset is the city's local time.
LOCAL_ZONE = ZoneInfo("Europe/Warsaw")


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
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)


def read_rows(path: Path, *, region: str) -> Iterator[ResidentRow | RowError]:
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as error:
        raise ImportFileError(f"{path}: cannot open ({error.strerror})") from None
    with handle:
        reader = csv.DictReader(handle)
        try:
            header = reader.fieldnames or []
        except UnicodeDecodeError:
            raise ImportFileError(f"{path}: not UTF-8 text; save the file as CSV UTF-8") from None
        if not ADDRESS_COLUMNS.keys() & set(header):
            raise ImportFileError(
                f"{path}:1: the header needs at least one address column ({', '.join(ADDRESS_COLUMNS)});"
                f" found: {', '.join(header) or 'nothing'}"
            )
        try:
            for record in reader:
                yield parse_row(reader.line_num, record, region=region)
        except UnicodeDecodeError:
            yield RowError(reader.line_num + 1, "not UTF-8 text; save the file as CSV UTF-8")
        except csv.Error as error:
            yield RowError(reader.line_num, f"broken CSV: {error}")


def parse_row(line: int, record: dict[str | None, str | None], *, region: str) -> ResidentRow | RowError:
    if None in record:
        return RowError(line, "more fields than the header has columns")
    values = {str(key).strip(): (value or "").strip() for key, value in record.items()}
    problems: list[str] = []
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
        problems.append(f"language '{language}' is not one of {', '.join(LANGUAGES)}")
    if problems:
        return RowError(line, "; ".join(problems))
    attributes = {key: value for key, value in values.items() if key not in KNOWN_COLUMNS and value}
    return ResidentRow(line=line, addresses=addresses, language=language, attributes=attributes)


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
            return str(validate_email(raw, check_deliverability=False).normalized)
        except EmailNotValidError:
            problems.append("email is not a valid address")
            return None
    if not raw.isdigit():
        problems.append("telegram_chat_id must be the numeric chat id")
        return None
    return raw


def _parse_time(raw: str, problems: list[str]) -> datetime | None:
    if not raw:
        problems.append("consent_at is empty: give the date and time of consent (ISO 8601)")
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        problems.append("consent_at is not an ISO 8601 date and time (e.g. 2026-03-01T12:00:00+01:00)")
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=LOCAL_ZONE)


async def import_residents(
    sessions: SessionFactory,
    path: Path,
    *,
    region: str,
    clock: Clock,
    on_row: Callable[[], None] = lambda: None,
    batch_size: int = 200,
) -> ImportReport:
    report = ImportReport()
    rows = read_rows(path, region=region)
    exhausted = False
    while not exhausted:
        async with sessions() as session, session.begin():
            residents = ResidentRepository(session)
            for _ in range(batch_size):
                row = next(rows, None)
                if row is None:
                    exhausted = True
                    break
                on_row()
                if isinstance(row, RowError):
                    report.errors.append(row)
                    continue
                try:
                    async with session.begin_nested():
                        _, created = await residents.upsert(
                            addresses=row.addresses,
                            language=row.language,
                            attributes=row.attributes,
                            now=clock(),
                        )
                except AddressConflict as conflict:
                    report.errors.append(RowError(row.line, str(conflict)))
                    continue
                if created:
                    report.created += 1
                else:
                    report.updated += 1
    return report
