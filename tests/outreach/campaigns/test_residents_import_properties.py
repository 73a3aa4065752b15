"""Property-based tests of the residents CSV reader (issue 20): any file yields rows or row errors in
file order, each at a line of the file, or one file error; a row error never repeats an address the
file gave, since an import report must not be personal data."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from outreach.campaigns.resident_rows import ImportFileError, ResidentRow, RowError, read_rows

BANDS = ("16-24", "25-44", "45-64", "65+")
HEADER = ["phone", "whatsapp", "email", "telegram_chat_id", "language", "consent_source", "consent_at", "district"]
CELL = st.one_of(
    st.sampled_from(["", "+48 601 234 567", "601234567", "ala@example.org", "1234567", "pl", "uk", "2026-01-05"]),
    st.text(max_size=24),
    st.text(alphabet="0123456789+() -", min_size=6, max_size=16),
    st.builds("{}@{}.pl".format, st.text(alphabet="abcxyz._+", min_size=1, max_size=8), st.sampled_from(["a", "b"])),
)


def rows_of(data: bytes) -> list[ResidentRow | RowError]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "residents.csv"
        path.write_bytes(data)
        return list(read_rows(path, region="PL", age_bands=BANDS))


@settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400) | st.text(max_size=400).map(lambda text: text.encode("utf-8", "surrogatepass")))
def test_any_file_gives_rows_in_order_or_one_file_error(data: bytes) -> None:
    try:
        rows = rows_of(b"phone,consent_source,consent_at\n" + data)
    except ImportFileError as error:
        assert str(error).strip()
        return
    lines = [row.line for row in rows]
    assert lines == sorted(lines) and len(set(lines)) == len(lines), lines
    assert all(line >= 2 for line in lines)
    assert all(isinstance(row, ResidentRow | RowError) for row in rows)


@settings(deadline=None, max_examples=80, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(CELL, min_size=len(HEADER), max_size=len(HEADER)), min_size=1, max_size=6))
# Found by this test: a column shifted into `language` echoed a chat id or number in the language error.
@example([["", "", "", "1234567", "1234567", "", "", ""]])
def test_a_row_error_never_repeats_an_address_from_the_file(records: list[list[str]]) -> None:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(HEADER)
    writer.writerows(records)
    try:
        rows = rows_of(text.getvalue().encode("utf-8", "surrogatepass"))
    except ImportFileError:
        return
    addresses = {cell.strip() for record in records for cell in record[:4] if len(cell.strip()) >= 6}
    for row in rows:
        if isinstance(row, RowError):
            leaked = [address for address in addresses if address in row.message]
            assert not leaked, (row, leaked)


def test_a_good_row_is_read_as_a_resident() -> None:
    """The positive control: a well-formed row is a resident, so the properties above see both kinds."""
    (row,) = rows_of(b"phone,consent_source,consent_at\n+48601234567,paper form,2026-01-05T10:00\n")
    assert isinstance(row, ResidentRow) and row.line == 2
    assert [address.address for address in row.addresses] == ["+48601234567"]
