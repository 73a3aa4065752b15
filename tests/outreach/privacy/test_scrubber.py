"""The one scrubber: phones in the ways residents write them, e-mail addresses, and PESEL numbers only
when their checksum (and date of birth) holds, so ordinary numbers survive."""

from __future__ import annotations

import pytest

from outreach.privacy.scrubber import EMAIL_MASK, PESEL_MASK, PHONE_MASK, is_pesel, scrub, scrub_text


@pytest.mark.parametrize(
    ("written", "masked"),
    [
        # PESEL: valid checksum and date (one per century encoding), masked; a wrong checksum survives.
        ("mój pesel 44051401359", f"mój pesel {PESEL_MASK}"),
        ("02270803624 to PESEL córki", f"{PESEL_MASK} to PESEL córki"),  # born 2002 (month + 20)
        ("pesel 44051401358", "pesel 44051401358"),  # checksum off by one
        ("licznik 12345678901", "licznik 12345678901"),  # eleven digits, checksum fails
        ("44131401350", "44131401350"),  # the checksum holds, but month 13 names no date
        ("faktura 440514013590", "faktura 440514013590"),  # twelve digits: no PESEL inside
        # Phones: Polish mobiles and landlines in several spellings, and foreign numbers with their code.
        ("zadzwoń 600 100 200", f"zadzwoń {PHONE_MASK}"),
        ("tel. +48 601-200-300.", f"tel. {PHONE_MASK}."),
        ("600100200", PHONE_MASK),
        ("0048 600100200 wieczorem", f"{PHONE_MASK} wieczorem"),
        ("biuro (58) 123 45 67", f"biuro {PHONE_MASK}"),
        ("+380 67 123 4567 — мій номер", f"{PHONE_MASK} — мій номер"),
        ("call +44 20 7946 0958", f"call {PHONE_MASK}"),
        # E-mail addresses.
        ("pisz na jan.kowalski+park@example.com!", f"pisz na {EMAIL_MASK}!"),
        ("ola_k@poczta.onet.pl i 600 100 200", f"{EMAIL_MASK} i {PHONE_MASK}"),
        # Ordinary numbers survive.
        ("mam 12 lat i 3 psy", "mam 12 lat i 3 psy"),
        ("rok 2024, ul. Długa 15, kod 80-001", "rok 2024, ul. Długa 15, kod 80-001"),
        ("więcej ławek (5-6) przy stawie", "więcej ławek (5-6) przy stawie"),
    ],
)
def test_the_scrubber_masks_personal_data_and_keeps_ordinary_numbers(written: str, masked: str) -> None:
    assert scrub_text(written) == masked


def test_the_scrubber_counts_what_it_masked() -> None:
    scrubbed = scrub("a@b.pl, 600 100 200, 601 200 300, 44051401359, 44051401358")
    assert (scrubbed.emails, scrubbed.phones, scrubbed.pesels, scrubbed.masked) == (1, 2, 1, 4)


@pytest.mark.parametrize(
    ("digits", "valid"),
    [
        ("44051401359", True),
        ("02270803624", True),
        ("44051401358", False),
        ("00000000000", False),  # checksum holds (0), but month 0 names no date
        ("44131401350", False),  # checksum holds, month 13
        ("4405140135", False),
        ("4405140135a", False),
    ],
)
def test_a_pesel_needs_its_checksum_and_a_date_of_birth(digits: str, valid: bool) -> None:
    assert is_pesel(digits) is valid
