"""Webhook input kept on local disk while the store is away, so the provider still gets its 200 (issue 18).

Twilio retries a webhook at most 5 times within about 15 s, so answering 503 through a minute's outage
loses replies. As RapidPro's courier does, a verified message (or delivery report) that meets an
outage is written to the spool directory instead, one JSON file per item, and applied in arrival order
once the store is back (outreach.inbound.spool_flusher). Exactly once rests on the store: the
provider's id is the inbound event's unique key, so an item applied twice (a provider's retry spooled
beside the first try, or a crash between the commit and the file's removal) is a duplicate there.

Durability: written to a hidden temporary name, fsync'd, renamed to its final name, the directory
fsync'd; a crash leaves either no file or a whole one. Names sort in arrival order (wall-clock
nanoseconds, then the process and a counter), across the processes that share the directory.

What a file holds is the parsed message, not the request: the channel, the provider's id, the sender's
address, the text and what the channel read from it (a tap, a command); no name, no profile, no
signature. The inbound_events row holds the same, with the contact's id for the address: the spool
cannot look the address up while the store is away. With the service's keys (always, as `serve` wires
it) the file's content is sealed with AES-256-GCM under the current key (storage.sealing); a file
written in the clear by an older version is still read. The directory is made 0700 and each file 0600; a
file is removed once applied. It must be on a local disk (the flushers lock it with flock).

A file that does not parse is moved to `corrupt/` and reported, never retried.

An erasure removes the erased resident's waiting messages (`forget`, under the flush lock, so no
flusher is applying them meanwhile): applied after it, a message the resident sent before it would
come back as a stranger's, text and address. What it cannot reach (a spool on another host, a lock
held too long) still arrives as a stranger's message only: the address names nobody any more.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import itertools
import json
import logging
import os
import secrets
import stat
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import TypeAdapter, ValidationError

from channels.base import DeliveryStatus, Inbound
from outreach.addresses import canonical_address
from storage.sealing import SealedValueUnreadable, Sealer

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
SUFFIX = ".json"
SEALED_AS = "spool"  # the associated data of a sealed file: it opens as nothing else
TEMPORARY_PREFIX = ".tmp-"
LOCK_NAME = ".flush.lock"
CORRUPT_FOLDER = "corrupt"
# A temporary file this old was left by a writer that died before its rename: nobody was answered 200.
ABANDONED_SECONDS = 600
# How long `forget` waits for a flusher's round to end (a round applies what is due, then lets go).
FORGET_WAIT_SECONDS = 30.0
LOCK_POLL_SECONDS = 0.05

Item = Inbound | DeliveryStatus
Kind = Literal["inbound", "status"]

_INBOUND = TypeAdapter(Inbound)
_STATUS = TypeAdapter(DeliveryStatus)
_ARRIVAL = TypeAdapter(datetime)


class CorruptSpoolFile(Exception):
    """A spool file that is not a whole item of this format (the message says why, never the content)."""


@dataclass(frozen=True)
class Spooled:
    name: str
    arrived_at: datetime  # our clock when the webhook got it: the item is handled as of then
    item: Item


class InboundSpool:
    """The spool directory. Writing (`keep`) is safe from any number of processes; applying is done
    under `flushing()`, an exclusive lock, so one flusher at a time works through the files in order."""

    def __init__(self, directory: Path, sealer: Sealer | None = None) -> None:
        self.directory = directory
        self._sealer = sealer  # the service's keys: each file's content sealed (docs/PRIVACY.md)
        self.arrived = asyncio.Event()  # set by `put`: this process's flusher looks at once
        self._numbers = itertools.count()

    async def put(self, item: Item, *, arrived_at: datetime) -> str:
        """`keep` (in a thread: it waits for the disk), then wake this process's flusher."""
        name = await asyncio.to_thread(self.keep, item, arrived_at=arrived_at)
        self.arrived.set()
        return name

    def keep(self, item: Item, *, arrived_at: datetime) -> str:
        """Write `item` durably; its file name. Blocking (fsync): call it in a thread."""
        self._ensure_directory()
        number, pid = next(self._numbers), os.getpid()  # the process that writes, not the one that built it
        name = f"{time.time_ns():020d}-{pid:07d}-{number:08d}-{secrets.token_hex(3)}{SUFFIX}"
        temporary = self.directory / (TEMPORARY_PREFIX + name)
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(self._seal(encode(item, arrived_at)))
                file.flush()
                os.fsync(file.fileno())
            os.rename(temporary, self.directory / name)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        self._sync_directory()
        return name

    def has_pending(self) -> bool:
        """Whether any item waits to be applied (by any process sharing the directory). A directory
        that cannot be read holds nothing written by us (the flusher says why it cannot read it)."""
        try:
            with os.scandir(self.directory) as entries:
                return any(_is_item(entry.name) for entry in entries)
        except OSError:
            return False

    def pending(self) -> list[str]:
        """The waiting items' file names, oldest first."""
        try:
            with os.scandir(self.directory) as entries:
                return sorted(entry.name for entry in entries if _is_item(entry.name))
        except FileNotFoundError:
            return []

    def read(self, name: str) -> Spooled:
        """The item in `name`; CorruptSpoolFile when it is not a whole item of this format."""
        content = (self.directory / name).read_bytes()
        arrived_at, item = decode(self._open(content))
        return Spooled(name, arrived_at, item)

    def _seal(self, content: bytes) -> bytes:
        if self._sealer is None:
            return content
        return self._sealer.seal(content.decode("ascii"), binding=SEALED_AS).encode("ascii")

    def _open(self, content: bytes) -> bytes:
        if self._sealer is None or content.startswith(b"{"):  # written in the clear (before revision 0030)
            return content
        try:
            return self._sealer.open(content.decode("ascii"), binding=SEALED_AS).encode("ascii")
        except (SealedValueUnreadable, UnicodeDecodeError) as error:
            raise CorruptSpoolFile(f"sealed, and it does not open: {error}") from None

    def done(self, name: str) -> None:
        """Remove an applied item. Not fsync'd: a removal a crash undoes applies the item again, which
        the store counts as a duplicate; a sync per file would halve how fast the spool drains."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.directory / name)

    def set_aside(self, name: str) -> Path:
        """Move a corrupt file out of the way, into `corrupt/`; its new path."""
        folder = self.directory / CORRUPT_FOLDER
        folder.mkdir(mode=0o700, exist_ok=True)
        target = folder / name
        os.replace(self.directory / name, target)
        self._sync_directory()
        return target

    def remove_abandoned(self, *, now: float | None = None) -> int:
        """Remove temporary files whose writer died before renaming them; how many."""
        cutoff = (time.time() if now is None else now) - ABANDONED_SECONDS
        removed = 0
        try:
            with os.scandir(self.directory) as entries:
                for entry in entries:
                    if entry.name.startswith(TEMPORARY_PREFIX) and entry.stat().st_mtime < cutoff:
                        with contextlib.suppress(FileNotFoundError):
                            os.unlink(entry.path)
                        removed += 1
        except FileNotFoundError:
            return 0
        return removed

    async def forget(self, addresses: Collection[tuple[str, str]], *, wait: float = FORGET_WAIT_SECONDS) -> int | None:
        """Remove the waiting messages from any of these (channel, address) pairs (each in its
        canonical form, outreach.addresses): how many; None when a flusher held the lock for `wait`
        seconds (nothing removed). Delivery reports name a provider's message id, no address: they stay."""
        return await asyncio.to_thread(self._forget, set(addresses), wait)

    def _forget(self, addresses: set[tuple[str, str]], wait: float) -> int | None:
        if not addresses or not self.has_pending():
            return 0
        deadline = time.monotonic() + wait
        while True:
            with self.flushing() as ours:
                if ours:
                    return self._remove_from(addresses)
            if time.monotonic() >= deadline:
                return None
            time.sleep(LOCK_POLL_SECONDS)  # a flusher's round is under way: it lets go when done

    def _remove_from(self, addresses: set[tuple[str, str]]) -> int:
        removed = 0
        for name in self.pending():
            try:
                item = self.read(name).item
            except (FileNotFoundError, CorruptSpoolFile):
                continue  # gone, or the flusher sets it aside
            if isinstance(item, Inbound) and (item.channel, canonical_address(item.channel, item.address)) in addresses:
                self.done(name)
                removed += 1
        if removed:
            self._sync_directory()  # unlike an applied item's, a forgotten one must not come back
        return removed

    @contextlib.contextmanager
    def flushing(self) -> Iterator[bool]:
        """Hold the flush lock while inside, if no other flusher holds it: yields whether it is ours.
        The lock goes with the process (flock), so a flusher killed mid-file blocks no other."""
        if not self.directory.exists():
            yield False  # nothing was ever spooled here
            return
        descriptor = os.open(self.directory / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(descriptor)  # releases the lock

    def _ensure_directory(self) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        mode = stat.S_IMODE(self.directory.stat().st_mode)
        if mode & 0o077:  # made by someone else, open to others: messages are personal data
            os.chmod(self.directory, 0o700)
            log.warning("spool directory was mode %o; now 0700", mode)

    def _sync_directory(self) -> None:
        descriptor = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def _is_item(name: str) -> bool:
    return name.endswith(SUFFIX) and not name.startswith(".")


def encode(item: Item, arrived_at: datetime) -> bytes:
    kind: Kind = "inbound" if isinstance(item, Inbound) else "status"
    fields = (
        _INBOUND.dump_python(item, mode="json") if isinstance(item, Inbound) else _STATUS.dump_python(item, mode="json")
    )
    document = {"version": FORMAT_VERSION, "kind": kind, "arrived_at": arrived_at.isoformat(), "item": fields}
    # ASCII with escapes: a lone surrogate or a NUL in a text survives the round trip.
    return json.dumps(document, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def decode(content: bytes) -> tuple[datetime, Item]:
    """(arrival, item) from a spool file's bytes; CorruptSpoolFile when they are not one."""
    try:
        document = json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CorruptSpoolFile(f"not JSON ({type(error).__name__})") from None
    if not isinstance(document, dict) or document.get("version") != FORMAT_VERSION:
        raise CorruptSpoolFile("not a spool item of version 1")
    kind, fields = document.get("kind"), document.get("item")
    try:
        arrived_at = _ARRIVAL.validate_python(document.get("arrived_at"))
        if kind == "inbound":
            return arrived_at, _INBOUND.validate_python(fields)
        if kind == "status":
            return arrived_at, _STATUS.validate_python(fields)
    except ValidationError as error:
        where = ", ".join(".".join(str(part) for part in problem["loc"]) for problem in error.errors()[:3])
        raise CorruptSpoolFile(f"fields not as written ({where or 'item'})") from None
    raise CorruptSpoolFile("an unknown kind of item")
