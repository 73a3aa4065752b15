"""One row of a residents file: what is taken, and each problem named in words."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from outreach.campaigns.residents_import import ResidentRow, RowError, parse_row
from storage.residents import AddressInput

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
    taken = parse_row(2, row(), region="PL")
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
    refused = parse_row(7, row(**changes), region="PL")
    assert isinstance(refused, RowError) and refused.line == 7, label
    assert problem in refused.message


def test_a_consent_source_of_exactly_120_is_taken() -> None:
    assert isinstance(parse_row(3, row(consent_source="x" * 120), region="PL"), ResidentRow)
