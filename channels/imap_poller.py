"""Reading the replies mailbox over IMAP (aioimaplib), without a database and without the \\Seen flag.

The poller remembers where it is through a `PositionStore` the service implements (one row in the
database): the mailbox's UIDVALIDITY and the highest UID it has handled. Each `poll_once`:

1. connects, logs in, SELECTs the mailbox and reads UIDVALIDITY from the answer;
2. when the stored UIDVALIDITY differs (or nothing is stored), treats the mailbox as new and starts at
   UID 1: UIDs of a mailbox with another UIDVALIDITY mean nothing any more. The mail already handled
   comes again and the service's deduplication by Message-ID (a unique constraint on the inbound
   provider id) makes it count once; a dedicated replies mailbox, emptied now and then, keeps that cheap;
3. `UID SEARCH UID {last+1}:*` and keeps the UIDs above `last` (an IMAP server answers "n:*" with the
   highest UID even when it is below n);
4. per UID, in increasing order: `UID FETCH uid BODY.PEEK[]` (PEEK: \\Seen stays as it is), then
   `await handle(raw, uid)`, and only after it returned, `position.save(uidvalidity, uid)`.

So a message counts as done only once its answer is stored (`handle` stores it, in its own
transaction). A crash between `handle` and `save` handles that message again on the next poll: the
service dedupes by Message-ID, so that is safe. An exception from `handle` stops the batch (the
message is tried again next time) and propagates; `handle` must store mail it cannot use (for the
audit) and return, or one unreadable mail would hold up the mailbox. Flags are never read nor changed:
a person who opens the mailbox and reads, flags or marks messages changes nothing here.

aioimaplib 2.0 has no STARTTLS: use "tls" (implicit TLS, port 993), or "none" on loopback only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import ssl
from collections.abc import Awaitable, Callable, Sequence
from typing import Literal, Protocol

import aioimaplib  # type: ignore[import-untyped]

log = logging.getLogger(__name__)

Handler = Callable[[bytes, int], Awaitable[None]]
ImapTls = Literal["tls", "none"]

_UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]")
_QUIETED = "aioimaplib"  # logs every byte received (whole mails: addresses, answers) at DEBUG
_UID = re.compile(rb"\bUID (\d+)\b")


def quiet_imap_logging() -> None:
    """Keep mail content out of the logs: aioimaplib logs everything it receives at DEBUG (and some
    untagged lines at INFO). Its logger goes to WARNING unless someone set it higher already."""
    logger = logging.getLogger(_QUIETED)
    if logger.level < logging.WARNING:  # NOTSET (0) included
        logger.setLevel(logging.WARNING)


class PositionStore(Protocol):
    """Where the poller is in one mailbox; the service keeps it in the database."""

    async def load(self) -> tuple[int, int] | None:
        """(uidvalidity, last handled uid), or None before the first save."""
        ...

    async def save(self, uidvalidity: int, last_uid: int) -> None: ...


class MemoryPosition:
    """A PositionStore in memory (tests, one-off runs): forgets everything on restart."""

    def __init__(self, start: tuple[int, int] | None = None) -> None:
        self.value = start

    async def load(self) -> tuple[int, int] | None:
        return self.value

    async def save(self, uidvalidity: int, last_uid: int) -> None:
        self.value = (uidvalidity, last_uid)


class ImapError(Exception):
    """The mailbox could not be read (connection, login, SELECT, SEARCH or FETCH failed).

    Nothing was handled past the saved position; the next poll starts from there again.
    """


class ImapPoller:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        user: str,
        password: str,
        position: PositionStore,
        handle: Handler,
        mailbox: str = "INBOX",
        tls: ImapTls = "tls",
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = 30.0,
        batch_limit: int = 500,
    ) -> None:
        if tls not in ("tls", "none"):
            raise ValueError("imap: tls must be 'tls' or 'none' (aioimaplib has no STARTTLS)")
        if not host or not user:
            raise ValueError("imap: host and user are required")
        if not 0 < port < 65536:
            raise ValueError("imap: port must be 1-65535")
        if timeout <= 0 or batch_limit < 1:
            raise ValueError("imap: timeout and batch_limit must be positive")
        if not mailbox.isascii() or any(char in mailbox for char in '"\\\r\n'):
            raise ValueError("imap: the mailbox name must be ASCII without quotes, backslashes or line breaks")
        self._host = host
        self._port = port
        self._user = user
        self._password = password
        self._position = position
        self._handle = handle
        self._mailbox = mailbox
        self._tls = tls
        self._ssl_context = ssl_context
        self._timeout = timeout
        self._batch_limit = batch_limit
        quiet_imap_logging()

    async def _connect(self) -> aioimaplib.IMAP4:
        client: aioimaplib.IMAP4
        if self._tls == "tls":
            client = aioimaplib.IMAP4_SSL(
                host=self._host, port=self._port, timeout=self._timeout, ssl_context=self._ssl_context
            )
        else:
            client = aioimaplib.IMAP4(host=self._host, port=self._port, timeout=self._timeout)
        try:
            await client.wait_hello_from_server()
        except (OSError, TimeoutError, aioimaplib.AioImapException) as error:
            await _abandon(client)
            raise ImapError(f"imap: could not connect ({type(error).__name__})") from None
        return client

    async def poll_once(self) -> int:
        """Handle every message past the stored position (up to `batch_limit`); how many were handled."""
        client = await self._connect()
        try:
            return await self._poll(client)
        finally:
            await _logout(client)

    async def _poll(self, client: aioimaplib.IMAP4) -> int:
        response = await _call(client.login(self._user, self._password), "LOGIN")
        if response.result != "OK":
            raise ImapError("imap: login refused; check the user and password")
        response = await _call(client.select(_quoted(self._mailbox)), "SELECT")
        if response.result != "OK":
            raise ImapError("imap: the mailbox could not be selected")
        uidvalidity = _uidvalidity(response.lines)
        stored = await self._position.load()
        last = stored[1] if stored is not None and stored[0] == uidvalidity else 0
        if stored is not None and stored[0] != uidvalidity:
            log.warning("imap: UIDVALIDITY changed; reading the mailbox from the start (Message-IDs dedupe)")
        response = await _call(client.uid_search(f"UID {last + 1}:*", charset=None), "UID SEARCH")
        if response.result != "OK":
            raise ImapError("imap: UID SEARCH failed")
        uids = sorted(uid for uid in _search_uids(response.lines) if uid > last)[: self._batch_limit]
        handled = 0
        for uid in uids:
            raw = await self._fetch(client, uid)
            if raw is not None:
                await self._handle(raw, uid)
                handled += 1
            # Expunged between SEARCH and FETCH: gone for good, so past it too.
            await self._position.save(uidvalidity, uid)
        return handled

    async def _fetch(self, client: aioimaplib.IMAP4, uid: int) -> bytes | None:
        response = await _call(client.uid("fetch", str(uid), "(UID BODY.PEEK[])"), "UID FETCH")
        if response.result != "OK":
            raise ImapError("imap: UID FETCH failed")
        return _literal(response.lines, uid)

    async def run(self, interval: float, stop: asyncio.Event) -> None:
        """Poll every `interval` seconds until `stop` is set. A failure is logged (its type only for a
        failing `handle`, whose message may quote the mail) and the next poll starts from the saved
        position again, so a store that is down delays replies and loses none."""
        while not stop.is_set():
            try:
                await self.poll_once()
            except ImapError as error:
                log.warning("%s", error)
            except Exception as error:
                log.warning("imap: handling a message failed (%s); it is tried again next poll", type(error).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)


async def _call(operation: Awaitable[aioimaplib.Response], what: str) -> aioimaplib.Response:
    try:
        return await operation
    except (OSError, TimeoutError, aioimaplib.AioImapException) as error:
        raise ImapError(f"imap: {what} failed ({type(error).__name__})") from None


def _quoted(mailbox: str) -> str:
    return f'"{mailbox}"'


def _uidvalidity(lines: Sequence[bytes | bytearray]) -> int:
    for line in lines:
        if isinstance(line, bytes | bytearray):
            found = _UIDVALIDITY.search(bytes(line))
            if found:
                return int(found.group(1))
    raise ImapError("imap: the server sent no UIDVALIDITY")


def _search_uids(lines: Sequence[bytes | bytearray]) -> list[int]:
    """The UIDs of a UID SEARCH answer. aioimaplib hands the untagged "* SEARCH 4 5 6" over as b"4 5 6"
    (b"SEARCH 4 5 6" is read too); the tagged "Search completed (…)" line has words, so it is skipped."""
    uids: list[int] = []
    for line in lines:
        words = bytes(line).split()
        if words[:1] == [b"SEARCH"]:
            words = words[1:]
        if words and all(word.isdigit() for word in words):
            uids.extend(int(word) for word in words)
    return uids


def _literal(lines: Sequence[bytes | bytearray], uid: int) -> bytes | None:
    """The message body of a `UID FETCH uid (UID BODY.PEEK[])` answer; None when the UID is gone.

    aioimaplib gives the lines as bytes and the literal (the message) as a bytearray following the
    line that announced it ("1 FETCH (UID 7 BODY[] {1234}").
    """
    for index, line in enumerate(lines):
        if isinstance(line, bytearray) and index > 0:
            announced = bytes(lines[index - 1])
            found = _UID.search(announced)
            trailer = bytes(lines[index + 1]) if index + 1 < len(lines) else b""
            if found is None:
                found = _UID.search(trailer)  # some servers send UID after the literal
            if found is not None and int(found.group(1)) == uid:
                return bytes(line)
    return None


async def _logout(client: aioimaplib.IMAP4) -> None:
    try:
        await asyncio.wait_for(client.logout(), timeout=5)
    except (OSError, TimeoutError, aioimaplib.AioImapException):
        pass
    finally:
        await _abandon(client)


async def _abandon(client: aioimaplib.IMAP4) -> None:
    """Close the transport and wait for the connection task, so nothing is left pending."""
    protocol = getattr(client, "protocol", None)
    transport = getattr(protocol, "transport", None)
    if transport is not None:
        transport.close()
    task = getattr(client, "_client_task", None)
    if task is not None and not task.done():
        task.cancel()
    if task is not None:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
