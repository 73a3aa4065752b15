"""Reading a residents file (the CSV format of PRODUCT.md) and checking each row of it: what is taken,
and each problem named in words, by line, never by the row's values (an import report must not be
personal data). Each line is decoded by itself, so one bad byte rejects only its row. The API's
batches are checked here too (`parse_row`); storing rows is residents_import's job."""

from __future__ import annotations

import codecs
import csv
import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from flows.age_bands import AGE_BAND, MINIMUM_AGE, age_band_of, under_minimum_age
from flows.languages import DEFAULT_LANGUAGE, LANGUAGES
from outreach.addresses import EMAIL, canonical_address
from outreach.campaigns.recruitment import SERVICE_ATTRIBUTES
from storage.residents import AddressInput
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


# A record as the file gives it: the line it starts on and its fields, or why it is not CSV.
Record = tuple[int, list[str]] | RowError


def _decoded_lines(handle: BinaryIO) -> Iterator[str]:
    """The file's lines, each decoded by itself: a byte that is not UTF-8 becomes a lone surrogate
    (which no valid text holds), so it marks its own row as unreadable and nothing else."""
    for number, raw in enumerate(handle):
        yield (raw.removeprefix(codecs.BOM_UTF8) if number == 0 else raw).decode("utf-8", "surrogateescape")


def _records(path: Path) -> Iterator[tuple[list[str], Record]]:
    """The header beside each non-blank record, with the line it starts on (or its CSV error there).
    After a broken record the reader goes on at the next line. Raises ImportFileError at the first
    step when the file as a whole cannot be read."""
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
                yield header, RowError(start, f"broken CSV: {error}")
                continue
            if fields:  # a blank line is no row
                yield header, (start, fields)


def read_rows(path: Path, *, region: str, age_bands: Sequence[str]) -> Iterator[ResidentRow | RowError]:
    for header, record in _records(path):
        yield _parse_record(header, record, region=region, age_bands=age_bands)


def _parse_record(
    header: list[str], record: Record, *, region: str, age_bands: Sequence[str]
) -> ResidentRow | RowError:
    if isinstance(record, RowError):
        return record
    line, fields = record
    named: dict[str | None, str | None] = dict(zip(header, fields, strict=False))
    if len(fields) > len(header):
        named[None] = "surplus"
    return parse_row(line, named, region=region, age_bands=age_bands)


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
    parsed = _consent_time(raw)
    if parsed is None:
        problems.append("consent_at is not an ISO 8601 date and time (e.g. 2026-03-01T12:00:00+01:00)")
    return parsed


@functools.lru_cache(maxsize=4096)
def _consent_time(raw: str) -> datetime | None:
    """A register's rows share a few consent times: each parsed once, and one object for all its rows
    (which a parsing process also sends once per batch: pickle keeps one copy of a shared object)."""
    try:
        parsed = datetime.fromisoformat(raw)
        parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=LOCAL_ZONE)
        parsed.astimezone(UTC)  # the store keeps UTC: a moment beyond its range of dates is no date
    except (ValueError, OverflowError):
        return None
    return parsed
