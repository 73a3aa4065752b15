"""The keyring, sealing and the blind index: keys with ids, a row under an old key still read, a
missing or wrong key a clear error (never garbage), a ciphertext bound to its kind of row."""

from __future__ import annotations

import base64

import pytest

from storage.blind_index import address_index
from storage.keyring import Keyring, KeyringError, development_keyring, parse_encryption_keys
from storage.sealing import SealedValueUnreadable, Sealer, sealed_length
from tests.providers import BLIND_INDEX_KEY, ENCRYPTION_KEY_1, ENCRYPTION_KEY_2

INDEX_KEY = base64.b64decode(BLIND_INDEX_KEY)


def ring(text: str) -> Keyring:
    return Keyring(parse_encryption_keys(text, setting="OUTREACH_ENCRYPTION_KEYS"), INDEX_KEY)


OLD = ring(f"k1:{ENCRYPTION_KEY_1}")
BOTH = ring(f"k2:{ENCRYPTION_KEY_2},k1:{ENCRYPTION_KEY_1}")


def test_a_sealed_address_opens_to_itself_and_shows_neither_it_nor_its_key() -> None:
    sealed = Sealer(OLD).seal("+48601234567", binding="contact:sms")
    assert sealed.startswith("k1:")
    assert "601234567" not in sealed and ENCRYPTION_KEY_1 not in sealed
    assert Sealer(OLD).open(sealed, binding="contact:sms") == "+48601234567"
    assert Sealer(OLD).seal("+48601234567", binding="contact:sms") != sealed  # a fresh nonce each time


def test_a_ring_of_two_seals_with_the_first_and_opens_rows_under_either() -> None:
    under_old = Sealer(OLD).seal("ala@example.pl", binding="contact:email")
    both = Sealer(BOTH)
    assert both.open(under_old, binding="contact:email") == "ala@example.pl"
    assert not both.is_current(under_old)
    under_new = both.seal("ala@example.pl", binding="contact:email")
    assert both.key_id_of(under_new) == "k2" and both.is_current(under_new)


def test_a_row_under_a_key_the_ring_lost_is_a_clear_error_naming_the_key() -> None:
    under_new = Sealer(BOTH).seal("+48601234567", binding="contact:sms")
    with pytest.raises(SealedValueUnreadable, match="sealed under key 'k2', which OUTREACH_ENCRYPTION_KEYS does not"):
        Sealer(OLD).open(under_new, binding="contact:sms")


def test_a_wrong_key_under_the_right_id_or_a_moved_ciphertext_is_refused_not_garbage() -> None:
    sealed = Sealer(OLD).seal("+48601234567", binding="contact:sms")
    impostor = ring(f"k1:{ENCRYPTION_KEY_2}")
    with pytest.raises(SealedValueUnreadable, match="does not open"):
        Sealer(impostor).open(sealed, binding="contact:sms")
    with pytest.raises(SealedValueUnreadable, match="contact:telegram"):
        Sealer(OLD).open(sealed, binding="contact:telegram")
    with pytest.raises(SealedValueUnreadable):
        Sealer(OLD).open("k1:not-a-sealed-value", binding="contact:sms")


def test_the_longest_address_fits_the_column_length_computed_for_it() -> None:
    longest = "a" * 64 + "@" + "b" * 251 + ".pl"
    assert len(Sealer(BOTH).seal(longest, binding="contact:email")) <= sealed_length(len(longest.encode()))


def test_the_blind_index_finds_equal_addresses_only_and_needs_the_key() -> None:
    index = address_index(INDEX_KEY, "email", "ala@example.pl")
    assert index == address_index(INDEX_KEY, "email", "ala@example.pl")
    assert index != address_index(INDEX_KEY, "email", "Ala@example.pl")  # addresses come canonical: exact
    assert index != address_index(INDEX_KEY, "sms", "ala@example.pl")  # the channel is part of it
    assert address_index(INDEX_KEY, "sms", "+48601234567") != address_index(bytes(32), "sms", "+48601234567")
    assert len(index) == 64


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("k1", "not ID:BASE64KEY"),
        ("k1:%%%", "is not base64"),
        ("k1:AQID", "is 3 bytes, not 32"),
        (f"k1:{ENCRYPTION_KEY_1},k1:{ENCRYPTION_KEY_2}", "given twice"),
        (f"k 1:{ENCRYPTION_KEY_1}", "is not 1-16 of"),
        ("", "no encryption key"),
    ],
)
def test_an_unusable_key_setting_is_refused_naming_the_setting_never_the_key(text: str, message: str) -> None:
    with pytest.raises(KeyringError, match=message) as refused:
        ring(text)
    assert ENCRYPTION_KEY_1 not in str(refused.value)


def test_the_development_keyring_says_what_it_is_and_hides_its_keys() -> None:
    keys = development_keyring()
    assert keys.development and keys.current_id == "dev"
    assert repr(keys) == "Keyring(ids=['dev'], development=True)"
