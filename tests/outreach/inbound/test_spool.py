"""The spool directory on its own (outreach.inbound.spool): what a file holds, its permissions, its order,
corrupt files and the flush lock. Applying it against a store: test_spool_flusher.py."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import stat
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from channels.base import ButtonTap, DeliveryStatus, Inbound
from outreach.inbound.spool import (
    ABANDONED_SECONDS,
    CORRUPT_FOLDER,
    CorruptSpoolFile,
    InboundSpool,
    decode,
    encode,
)
from storage.keyring import Keyring, parse_encryption_keys
from storage.sealing import Sealer
from tests.providers import BLIND_INDEX_KEY, ENCRYPTION_KEY_1, ENCRYPTION_KEY_2

ARRIVED = datetime(2027, 3, 2, 10, 0, 1, 250_000, tzinfo=UTC)
TAP = Inbound(
    channel="telegram",
    provider_id="700000001",
    address="515151",
    text="tak",
    received_at=datetime(2027, 3, 2, 10, 0, tzinfo=UTC),
    tap=ButtonTap(campaign_id=1, question_id="uses_tram", key="yes", callback_id="cb-1", message_id="9"),
    language_hint="pl",
)
SMS = Inbound(
    channel="sms",
    provider_id="SM" + "a" * 32,
    address="+48600100200",
    text="tak\x00 \ud800",  # what only an escaped file keeps: a NUL, a lone surrogate
    received_at=datetime(2027, 3, 2, 10, 0, tzinfo=UTC),
)
REPORT = DeliveryStatus(
    channel="sms", provider_id="SM" + "b" * 32, status="undelivered", error_code="30006", reported_at=ARRIVED
)


@pytest.mark.parametrize("item", [TAP, SMS, REPORT], ids=["tap", "sms", "status"])
def test_an_item_comes_back_as_it_was_written(item: Inbound | DeliveryStatus, tmp_path: Path) -> None:
    spool = InboundSpool(tmp_path / "spool")
    name = spool.keep(item, arrived_at=ARRIVED)
    spooled = spool.read(name)
    assert (spooled.name, spooled.arrived_at, spooled.item) == (name, ARRIVED, item)


def test_a_file_holds_the_parsed_message_and_nothing_more(tmp_path: Path) -> None:
    spool = InboundSpool(tmp_path / "spool")
    [name] = [spool.keep(SMS, arrived_at=ARRIVED)]
    document = json.loads((spool.directory / name).read_bytes())
    assert set(document) == {"version", "kind", "arrived_at", "item"}
    assert set(document["item"]) == {field.name for field in dataclasses.fields(Inbound)}


def ring(keys: str) -> Sealer:
    return Sealer(Keyring(parse_encryption_keys(keys, setting="test"), base64.b64decode(BLIND_INDEX_KEY)))


def test_with_the_keys_a_file_holds_no_address_nor_text_and_reads_back(tmp_path: Path) -> None:
    spool = InboundSpool(tmp_path / "spool", ring(f"k1:{ENCRYPTION_KEY_1}"))
    name = spool.keep(SMS, arrived_at=ARRIVED)
    content = (spool.directory / name).read_bytes()
    assert content.startswith(b"k1:") and b"600100200" not in content
    assert spool.read(name).item == SMS
    older = InboundSpool(spool.directory).keep(TAP, arrived_at=ARRIVED)  # written in the clear before
    assert spool.read(older).item == TAP
    # A worker whose ring lacks the key: the file is not read as garbage, and the error names the key.
    with pytest.raises(CorruptSpoolFile, match="sealed under key 'k1', which OUTREACH_ENCRYPTION_KEYS does not"):
        InboundSpool(spool.directory, ring(f"k2:{ENCRYPTION_KEY_2}")).read(name)


def test_the_directory_is_private_and_so_is_each_file(tmp_path: Path) -> None:
    directory = tmp_path / "spool"
    directory.mkdir(mode=0o755)
    os.chmod(directory, 0o755)  # made by an operator, open to others
    spool = InboundSpool(directory)
    name = spool.keep(SMS, arrived_at=ARRIVED)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE((directory / name).stat().st_mode) == 0o600
    fresh = InboundSpool(tmp_path / "a" / "new" / "spool")
    fresh.keep(SMS, arrived_at=ARRIVED)
    assert stat.S_IMODE(fresh.directory.stat().st_mode) == 0o700


def test_files_sort_in_arrival_order_across_writers(tmp_path: Path) -> None:
    one, other = InboundSpool(tmp_path / "spool"), InboundSpool(tmp_path / "spool")  # two processes' views
    written = [
        (one if number % 2 else other).keep(dataclasses.replace(SMS, provider_id=f"SM{number}"), arrived_at=ARRIVED)
        for number in range(40)
    ]
    assert one.pending() == written
    assert [one.read(name).item.provider_id for name in one.pending()] == [f"SM{number}" for number in range(40)]


def test_nothing_is_pending_before_anything_was_spooled(tmp_path: Path) -> None:
    spool = InboundSpool(tmp_path / "never-made")
    assert (spool.has_pending(), spool.pending()) == (False, [])
    with spool.flushing() as ours:
        assert not ours
    assert not spool.directory.exists()  # a process that never spooled makes no directory


def test_a_half_written_file_is_not_pending_and_is_removed_once_abandoned(tmp_path: Path) -> None:
    spool = InboundSpool(tmp_path / "spool")
    kept = spool.keep(SMS, arrived_at=ARRIVED)
    left = spool.directory / ".tmp-00000000000000000001-0000001-00000000-abcdef.json"
    left.write_bytes(b'{"version": 1, "ki')  # its writer died before the rename: nobody was answered
    assert spool.pending() == [kept]
    assert spool.remove_abandoned(now=time.time()) == 0  # it may still be being written
    assert spool.remove_abandoned(now=time.time() + ABANDONED_SECONDS + 1) == 1
    assert not left.exists()


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b'{"version": 1, "kind": "inbound", "arrived_at": "2027-03-02T10:00:00+00:00", "item": {"chan', "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "not a spool item of version 1"),
        (b'{"version": 2, "kind": "inbound"}', "not a spool item of version 1"),
        (b'{"version": 1, "kind": "fax", "arrived_at": "2027-03-02T10:00:00+00:00", "item": {}}', "unknown kind"),
        (b'{"version": 1, "kind": "inbound", "arrived_at": "soon", "item": {}}', "fields not as written"),
    ],
)
def test_a_file_that_is_not_a_whole_item_is_corrupt(content: bytes, why: str) -> None:
    with pytest.raises(CorruptSpoolFile, match=why):
        decode(content)


def test_an_item_missing_a_field_is_corrupt_and_says_which() -> None:
    document = json.loads(encode(SMS, ARRIVED))
    del document["item"]["provider_id"]
    with pytest.raises(CorruptSpoolFile, match="provider_id"):
        decode(json.dumps(document).encode())


def test_a_corrupt_file_is_moved_aside(tmp_path: Path) -> None:
    spool = InboundSpool(tmp_path / "spool")
    name = spool.keep(SMS, arrived_at=ARRIVED)
    target = spool.set_aside(name)
    assert target == spool.directory / CORRUPT_FOLDER / name
    assert (spool.pending(), target.exists(), spool.has_pending()) == ([], True, False)


def test_one_flusher_at_a_time_holds_the_lock(tmp_path: Path) -> None:
    one, other = InboundSpool(tmp_path / "spool"), InboundSpool(tmp_path / "spool")
    one.keep(SMS, arrived_at=ARRIVED)
    with one.flushing() as first, other.flushing() as second:
        assert (first, second) == (True, False)
    with other.flushing() as after:
        assert after  # released when the holder left (or died: flock goes with the process)


async def test_forget_removes_the_messages_of_the_addresses_given_in_any_case(tmp_path: Path) -> None:
    spool = InboundSpool(tmp_path / "spool")
    mail = dataclasses.replace(SMS, channel="email", provider_id="<m1@x.pl>", address="Anna.Nowak@X.pl")
    kept = [spool.keep(item, arrived_at=ARRIVED) for item in (TAP, REPORT)]
    spool.keep(SMS, arrived_at=ARRIVED)
    spool.keep(mail, arrived_at=ARRIVED)
    erased = [("sms", SMS.address), ("email", "anna.nowak@x.pl"), ("telegram", "999")]
    assert await spool.forget(erased) == 2
    assert spool.pending() == sorted(kept)  # another's tap, and a delivery report (no address in it)
    assert await InboundSpool(tmp_path / "never-made").forget(erased) == 0


async def test_forget_gives_up_while_a_flusher_holds_the_spool(tmp_path: Path) -> None:
    spool = InboundSpool(tmp_path / "spool")
    spool.keep(SMS, arrived_at=ARRIVED)
    with spool.flushing() as ours:
        assert ours
        assert await spool.forget([("sms", SMS.address)], wait=0) is None
    assert len(spool.pending()) == 1
