"""One row of a residents file: what is taken, and each problem named in words."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from flows.age_bands import DEFAULT_AGE_BANDS
from outreach.bootstrap import Services
from outreach.campaigns.parse_ahead import PROCESS_FROM_BYTES
from outreach.campaigns.resident_rows import ResidentRow, RowError, parse_row
from outreach.campaigns.residents_import import ImportReport, import_residents, store_rows
from storage.residents import AddressInput, OnMatch, ResidentRepository
from storage.tables import ContactAddress
from tests.factories import address_in_the_clear

GOOD: dict[str | None, str | None] = {
    "phone": "600 100 200",
    "language": "en",
    "consent_source": "poster-orunia",
    "consent_at": "2026-01-10T12:00:00+01:00",
    "district": "Oliwa",
}


def row(**changes: str) -> dict[str | None, str | None]:
    """A record as csv.DictReader gives it (its keys may be None for surplus fields)."""
    record = dict(GOOD)
    record.update(changes.items())
    return record


def test_a_good_row_is_taken_with_its_attributes() -> None:
    taken = parse_row(2, row(), region="PL", age_bands=DEFAULT_AGE_BANDS)
    assert taken == ResidentRow(
        line=2,
        addresses=[AddressInput("sms", "+48600100200", "poster-orunia", datetime(2026, 1, 10, 11, tzinfo=UTC))],
        language="en",
        attributes={"district": "Oliwa"},
    )


@pytest.mark.parametrize(
    ("label", "changes", "problem"),
    [
        ("no consent source", {"consent_source": ""}, "consent_source is empty: say where the resident agreed"),
        ("a consent source over the column", {"consent_source": "x" * 121}, "consent_source is longer than 120"),
        ("an unknown language", {"language": "de"}, "language 'de' is not one of pl, en, uk"),
        ("no address", {"phone": ""}, "no address: give a phone"),
    ],
)
def test_a_bad_row_names_its_problem(label: str, changes: dict[str, str], problem: str) -> None:
    refused = parse_row(7, row(**changes), region="PL", age_bands=DEFAULT_AGE_BANDS)
    assert isinstance(refused, RowError) and refused.line == 7, label
    assert problem in refused.message


@pytest.mark.parametrize(
    ("written", "bands", "band"),
    [
        ("30-44", DEFAULT_AGE_BANDS, "30-44"),
        ("30 – 44", DEFAULT_AGE_BANDS, "30-44"),  # spelled loosely: kept as the setting writes it
        ("37", DEFAULT_AGE_BANDS, "30-44"),  # an age becomes its band
        ("17", ("16-17", *DEFAULT_AGE_BANDS), "16-17"),  # where a city enrols 16-year-olds
    ],
)
def test_the_age_band_is_kept_as_a_band_of_the_setting(written: str, bands: tuple[str, ...], band: str) -> None:
    taken = parse_row(2, row(age_band=written), region="PL", age_bands=bands)
    assert isinstance(taken, ResidentRow) and taken.attributes == {"district": "Oliwa", "age_band": band}


@pytest.mark.parametrize("written", ["45-59", "17", "old", "16-17"])
def test_an_age_band_the_setting_does_not_have_is_refused_without_its_value(written: str) -> None:
    refused = parse_row(4, row(age_band=written), region="PL", age_bands=DEFAULT_AGE_BANDS)
    assert refused == RowError(
        4, "age_band is neither one of the age bands 18-29, 30-44, 45-64, 65+ (OUTREACH_AGE_BANDS) nor an age in them"
    )


@pytest.mark.parametrize(
    ("written", "bands"),
    [
        ("15", DEFAULT_AGE_BANDS),  # an age under 16
        ("9", ("13-15", "16-17", *DEFAULT_AGE_BANDS)),
        ("13-15", ("13-15", "16-17", *DEFAULT_AGE_BANDS)),  # a band of the setting, but under 16
        ("14-17", DEFAULT_AGE_BANDS),  # some of it under 16
        ("0-12", DEFAULT_AGE_BANDS),
    ],
)
def test_an_age_band_under_16_is_refused_at_its_line(written: str, bands: tuple[str, ...]) -> None:
    refused = parse_row(6, row(age_band=written), region="PL", age_bands=bands)
    assert refused == RowError(6, "age_band is under 16: residents under 16 are not enrolled")


async def test_an_import_stores_nobody_under_16_and_names_the_line(services: Services, tmp_path: Path) -> None:
    path = tmp_path / "register.csv"
    header = HEADER.replace("consent_source", "age_band,consent_source")
    lines = [good_line(n).replace("Oliwa,", f"Oliwa,{age},") for n, age in ((2, "37"), (3, "15"), (4, "65+"))]
    path.write_text(header + "".join(lines), encoding="utf-8")
    report = await imported(services, path)
    assert [str(error) for error in report.errors] == [
        "line 3: age_band is under 16: residents under 16 are not enrolled"
    ]
    assert (report.created, await resident_count(services)) == (2, 2)


def test_a_consent_source_of_exactly_120_is_taken() -> None:
    assert isinstance(
        parse_row(3, row(consent_source="x" * 120), region="PL", age_bands=DEFAULT_AGE_BANDS), ResidentRow
    )


# --- whole files, into the store --------------------------------------------------------------

HEADER = "phone,telegram_chat_id,language,district,consent_source,consent_at\n"


def good_line(number: int) -> str:
    """A good data row with its own phone number (600 100 000 + number)."""
    return f"+48600{100000 + number},,pl,Oliwa,register,2026-01-10T12:00:00+01:00\n"


async def imported(services: Services, path: Path, **options: Any) -> ImportReport:
    """`path` imported as the CLI imports it (region PL), with `options` of import_residents."""
    return await import_residents(
        services.sessions, path, region="PL", clock=services.clock, age_bands=DEFAULT_AGE_BANDS, **options
    )


async def resident_count(services: Services) -> int:
    async with services.sessions() as session:
        return await ResidentRepository(session).count()


async def test_a_bad_byte_on_line_863_of_1047_rejects_that_line_only(services: Services, tmp_path: Path) -> None:
    path = tmp_path / "register.csv"
    lines = [HEADER.encode(), *(good_line(number).encode() for number in range(2, 1048))]
    lines[862] = lines[862].replace(b"Oliwa", b"Oliwa\xff")  # line 863 of the file
    path.write_bytes(b"".join(lines))
    report = await imported(services, path)
    assert [str(error) for error in report.errors] == ["line 863: not UTF-8 text; save the file as CSV UTF-8"]
    assert (report.created, report.rows) == (1045, 1046)
    assert await resident_count(services) == 1045


async def test_a_128_kib_field_rejects_its_line_and_the_rest_go_in(services: Services, tmp_path: Path) -> None:
    path = tmp_path / "register.csv"
    huge = good_line(3).replace("Oliwa", "x" * 128 * 1024 + "y")
    path.write_text(HEADER + good_line(2) + huge + good_line(4) + good_line(5), encoding="utf-8")
    report = await imported(services, path)
    assert [error.line for error in report.errors] == [3]
    assert "x" * 20 not in str(report.errors[0])
    assert report.created == 3
    assert await resident_count(services) == 3


@pytest.mark.parametrize(
    ("field", "line", "reason"),
    [
        ("telegram_chat_id", "+48600100003,{},pl,Oliwa,register,2026-01-10T12:00:00+01:00\n", "telegram_chat_id"),
        ("district", "+48600100003,,pl,{},register,2026-01-10T12:00:00+01:00\n", "district is longer than"),
    ],
)
async def test_an_over_long_field_rejects_its_line_by_name(
    services: Services, tmp_path: Path, field: str, line: str, reason: str
) -> None:
    """On PostgreSQL a 400-digit telegram_chat_id used to abort the whole batch, with no line named."""
    path = tmp_path / "register.csv"
    path.write_text(HEADER + good_line(2) + line.format("7" * 400) + good_line(4), encoding="utf-8")
    report = await imported(services, path)
    assert [error.line for error in report.errors] == [3], field
    assert reason in report.errors[0].message and "777" not in report.errors[0].message
    assert report.created == 2
    assert await resident_count(services) == 2


async def test_the_counts_add_up_to_the_rows_of_the_file(services: Services, tmp_path: Path) -> None:
    path = tmp_path / "register.csv"
    bad = "12345,,pl,Oliwa,register,2026-01-10T12:00:00+01:00\n"
    path.write_text(HEADER + good_line(2) + good_line(3) + good_line(2) + bad + "\n" + good_line(4), encoding="utf-8")
    first = await imported(services, path)
    assert (first.rows, first.created, first.updated, first.unchanged, len(first.errors)) == (5, 3, 0, 1, 1)
    again = await imported(services, path)
    assert (again.rows, again.created, again.updated, again.unchanged, len(again.errors)) == (5, 0, 0, 4, 1)


async def test_a_row_the_database_refuses_is_rejected_alone(services: Services) -> None:
    """Past the checks (a row built by hand): PostgreSQL refuses an address whose sealed form is longer
    than its column; the savepoint of that row is rolled back and the rest of its batch still goes in."""
    if services.settings.database_url.startswith("sqlite"):
        pytest.skip("SQLite stores strings of any length")
    consent = datetime(2026, 1, 10, tzinfo=UTC)

    def resident(line: int, address: str) -> ResidentRow:
        return ResidentRow(line, [AddressInput("telegram", address, "register", consent)], "pl", {})

    rows = [resident(2, "1001"), resident(3, "7" * 2000), resident(4, "1002")]
    report = await store_rows(services.sessions, rows, clock=services.clock, label="register.csv")
    assert [str(error) for error in report.errors] == [
        "line 3: the store refused the row: a text is longer than its column holds [SQLSTATE 22001]"
    ]
    assert (report.created, report.rows) == (2, 3)
    assert await resident_count(services) == 2


# --- set-based batches keep the file's order ----------------------------------------------------

# A resident stored before the file: +48600100001 (sms).
SAME_FILE = (
    "phone,email,language,consent_source,consent_at\n"
    "+48600100002,,pl,register,2026-01-10T12:00:00+01:00\n"  # 2: new
    "+48600100001,e1@example.org,pl,register,2026-01-10T12:00:00+01:00\n"  # 3: the resident stored before
    "+48600100002,e2@example.org,en,register,2026-01-10T12:00:00+01:00\n"  # 4: line 2's resident again
    "+48600100003,e1@example.org,pl,register,2026-01-10T12:00:00+01:00\n"  # 5: line 3's email (merged or not)
    "12345,,pl,register,2026-01-10T12:00:00+01:00\n"  # 6: not a number
    "+48600100004,,pl,register,2026-01-10T12:00:00+01:00\n"  # 7: new
)


async def addresses_by_resident(services: Services) -> list[list[str]]:
    """Each resident's addresses (a row written after its batch's new residents may get a larger id)."""
    async with services.sessions() as session:
        contacts = (await session.execute(select(ContactAddress).order_by(col(ContactAddress.id)))).scalars()
        owned: dict[int, list[str]] = {}
        for contact in contacts:
            owned.setdefault(contact.resident_id, []).append(address_in_the_clear(services, contact))
    return sorted(sorted(addresses) for addresses in owned.values())


@pytest.mark.parametrize("batch_size", [2000, 2])
@pytest.mark.parametrize(
    ("on_match", "counts", "owners"),
    [
        (
            OnMatch.SKIP,
            (3, 0, 2),  # line 5's addresses are nobody's yet (skip attached no email at line 3): created
            [["+48600100001"], ["+48600100002"], ["+48600100003", "e1@example.org"], ["+48600100004"]],
        ),
        (
            OnMatch.MERGE,
            (2, 3, 0),  # line 5 finds the email merged at line 3, and attaches its phone to that resident
            [["+48600100001", "+48600100003", "e1@example.org"], ["+48600100002", "e2@example.org"], ["+48600100004"]],
        ),
    ],
)
async def test_rows_written_set_based_end_as_the_file_orders_them(
    services: Services,
    tmp_path: Path,
    batch_size: int,
    on_match: OnMatch,
    counts: tuple[int, int, int],
    owners: list[list[str]],
) -> None:
    """Rows sharing an address with an earlier row of their batch, or with a stored resident, are
    written after it, in file order, whether both sit in one batch of 2000 or in batches of two."""
    await store_rows(
        services.sessions,
        [ResidentRow(1, [AddressInput("sms", "+48600100001", "register", datetime(2026, 1, 1, tzinfo=UTC))], "pl", {})],
        clock=services.clock,
        label="before",
    )
    path = tmp_path / "register.csv"
    path.write_text(SAME_FILE, encoding="utf-8")
    report = await imported(services, path, on_match=on_match, batch_size=batch_size)
    assert (report.created, report.updated, report.unchanged) == counts
    assert [str(error) for error in report.errors] == [
        "line 6: phone is not a valid number (region PL is assumed without a +prefix)"
    ]
    assert report.rows == 6
    assert await addresses_by_resident(services) == owners


@pytest.mark.parametrize("checked", ["here", "by a parsing process"])
async def test_bad_rows_of_many_batches_are_named_by_line_in_order(
    services: Services, tmp_path: Path, checked: str
) -> None:
    path = tmp_path / "register.csv"
    lines = [good_line(number) for number in range(2, 2 + 4500)]
    for line in (2, 2001, 2002, 4501):  # the first and last row of the file, two rows at a batch boundary
        lines[line - 2] = lines[line - 2].replace("register", "")
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    read: list[int] = []
    report = await imported(
        services,
        path,
        on_rows=read.append,
        parse_apart_from_bytes=0 if checked == "by a parsing process" else PROCESS_FROM_BYTES,
    )
    assert path.stat().st_size < PROCESS_FROM_BYTES  # a small file is checked here unless told otherwise
    assert read == [2000, 2000, 500]
    assert [error.line for error in report.errors] == [2, 2001, 2002, 4501]
    assert (report.rows, report.created) == (4500, 4496)
    assert await resident_count(services) == 4496


async def test_each_batch_is_told_once_committed_with_the_counts_so_far(services: Services, tmp_path: Path) -> None:
    """The import jobs' progress (outreach.campaigns.import_jobs): after each batch, what is stored."""
    path = tmp_path / "register.csv"
    lines = [good_line(number) for number in range(2, 2 + 5)]
    lines[2] = lines[2].replace("register", "")  # line 4: no consent_source
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    told: list[tuple[int, int, list[int], int]] = []

    async def batch_done(report: ImportReport) -> None:
        told.append(
            (report.rows, report.created, [error.line for error in report.errors], await resident_count(services))
        )

    await imported(services, path, on_batch=batch_done, batch_size=2)
    assert told == [(2, 2, [], 2), (4, 3, [4], 3), (5, 4, [4], 4)]


def test_an_email_is_taken_in_lower_case_as_inbound_mail_is_read() -> None:
    """The local part's case is no part of the address: the resident writes from it in any case."""
    taken = parse_row(2, row(phone="", email=" Anna.Nowak@X.pl"), region="PL", age_bands=DEFAULT_AGE_BANDS)
    assert isinstance(taken, ResidentRow)
    assert [(given.channel, given.address) for given in taken.addresses] == [("email", "anna.nowak@x.pl")]
