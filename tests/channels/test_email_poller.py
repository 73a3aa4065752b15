"""The IMAP poller against a real Dovecot on loopback: order, restarts, crashes, UIDVALIDITY, \\Seen.

Without Dovecot these tests skip with the reason (and fail with CI=true, where .ci/run installs it).
Each test works in a mailbox of its own on one Dovecot started for the module.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from channels.base import Choice, Outbound
from channels.email import EmailChannel
from channels.email_parsing import parse_reply
from channels.imap_poller import Handler, ImapError, ImapPoller, MemoryPosition, _literal, _search_uids
from tests.conftest import unavailable
from tests.providers import EMAIL_FROM, EMAIL_TOKEN_SECRET, REPLY_DOMAIN
from tests.servers import dovecot as dovecot_server
from tests.servers.certs import Certificate, make_certificate
from tests.servers.dovecot import Dovecot
from tests.servers.imap import ImapTestClient
from tests.servers.smtp import SmtpServer

FIXTURES = Path(__file__).parent / "email_fixtures"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate | None:
    return make_certificate(tmp_path_factory.mktemp("imap-certs"))


@pytest.fixture(scope="module")
def dovecot(certificate: Certificate | None) -> Iterator[Dovecot]:
    reason = dovecot_server.available()
    if reason is not None:
        unavailable(reason)
    server = Dovecot(certificate)
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def imap(dovecot: Dovecot) -> AsyncIterator[ImapTestClient]:
    async with ImapTestClient(dovecot.port, dovecot.user, dovecot.password) as client:
        yield client


@pytest.fixture
async def mailbox(imap: ImapTestClient) -> str:
    name = f"replies-{uuid.uuid4().hex[:12]}"
    await imap.create(name)
    return name


def message(number: int, *, text: str = "Tak") -> bytes:
    return (
        f"From: Resident {number} <resident{number}@example.org>\r\n"
        f"To: reply+{'a' * 31}{number % 8 + 2}@{REPLY_DOMAIN}\r\n"
        f"Subject: Re: pytanie {number}\r\n"
        f"Message-ID: <reply-{number}@example.org>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        f"{text}\r\n"
    ).encode()


class Recorder:
    """A `handle` that remembers (uid, Message-ID) and can fail on chosen Message-IDs."""

    def __init__(self, fail_on: set[str] | None = None, *, failures: int | None = None) -> None:
        self.handled: list[tuple[int, str]] = []
        self.fail_on = fail_on or set()
        self.failures = failures  # how many times to fail before working; None: always
        self.failed = 0

    async def __call__(self, raw: bytes, uid: int) -> None:
        parsed = parse_reply(raw)
        assert parsed is not None
        if parsed.message_id in self.fail_on and (self.failures is None or self.failed < self.failures):
            self.failed += 1
            raise RuntimeError("the store is down")
        self.handled.append((uid, parsed.message_id))


def poller(dovecot: Dovecot, box: str, position: MemoryPosition, handle: Handler, **overrides: Any) -> ImapPoller:
    kwargs: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": dovecot.port,
        "user": dovecot.user,
        "password": dovecot.password,
        "mailbox": box,
        "tls": "none",
        "timeout": 10.0,
        "position": position,
        "handle": handle,
    }
    kwargs.update(overrides)
    return ImapPoller(**kwargs)


async def test_every_message_is_handled_once_in_uid_order(dovecot: Dovecot, imap: ImapTestClient, mailbox: str) -> None:
    uids = [await imap.append(message(n), mailbox) for n in (1, 2, 3)]
    uidvalidity = uids[0][0]
    position, recorder = MemoryPosition(), Recorder()

    assert await poller(dovecot, mailbox, position, recorder).poll_once() == 3
    assert recorder.handled == [(1, "reply-1@example.org"), (2, "reply-2@example.org"), (3, "reply-3@example.org")]
    assert position.value == (uidvalidity, 3)

    # "UID 4:*" makes the server answer with UID 3 (the highest) when there is no 4: nothing again.
    assert await poller(dovecot, mailbox, position, recorder).poll_once() == 0
    await imap.append(message(4), mailbox)
    assert await poller(dovecot, mailbox, position, recorder).poll_once() == 1
    assert recorder.handled[-1] == (4, "reply-4@example.org") and len(recorder.handled) == 4


async def test_a_failing_handle_stops_the_batch_and_a_restart_resumes_there(
    dovecot: Dovecot, imap: ImapTestClient, mailbox: str
) -> None:
    for number in (1, 2, 3):
        await imap.append(message(number), mailbox)
    position = MemoryPosition()
    crashing = Recorder(fail_on={"reply-2@example.org"})
    with pytest.raises(RuntimeError, match="store is down"):
        await poller(dovecot, mailbox, position, crashing).poll_once()
    assert [uid for uid, _ in crashing.handled] == [1]
    assert position.value is not None and position.value[1] == 1  # 2 not done: its answer was not stored

    restarted = Recorder()  # a new process: only the position carries over
    assert await poller(dovecot, mailbox, position, restarted).poll_once() == 2
    assert restarted.handled == [(2, "reply-2@example.org"), (3, "reply-3@example.org")]
    assert position.value[1] == 3


class CrashingPosition(MemoryPosition):
    """The process dies after `handle` stored the answer, before the position was saved."""

    def __init__(self, crash_at_uid: int) -> None:
        super().__init__()
        self.crash_at_uid = crash_at_uid

    async def save(self, uidvalidity: int, last_uid: int) -> None:
        if last_uid == self.crash_at_uid:
            self.crash_at_uid = -1
            raise SystemExit("killed between handle and save")
        await super().save(uidvalidity, last_uid)


async def test_a_crash_between_handle_and_save_hands_the_message_over_again(
    dovecot: Dovecot, imap: ImapTestClient, mailbox: str
) -> None:
    """At least once: the service's deduplication by Message-ID makes it count once."""
    for number in (1, 2, 3):
        await imap.append(message(number), mailbox)
    position = CrashingPosition(crash_at_uid=2)
    stored: dict[str, int] = {}  # the service's inbound table, unique on Message-ID

    async def handle(raw: bytes, uid: int) -> None:
        parsed = parse_reply(raw)
        assert parsed is not None
        stored[parsed.message_id] = stored.get(parsed.message_id, 0) + 1

    with pytest.raises(SystemExit):
        await poller(dovecot, mailbox, position, handle).poll_once()
    assert position.value is not None and position.value[1] == 1
    await poller(dovecot, mailbox, position, handle).poll_once()
    assert stored == {"reply-1@example.org": 1, "reply-2@example.org": 2, "reply-3@example.org": 1}
    assert len(set(stored)) == 3  # three distinct answers once deduplicated


async def test_a_new_uidvalidity_reads_the_mailbox_from_the_start(
    dovecot: Dovecot, imap: ImapTestClient, mailbox: str
) -> None:
    first_validity, _ = await imap.append(message(1), mailbox)
    await imap.append(message(2), mailbox)
    position, recorder = MemoryPosition(), Recorder()
    await poller(dovecot, mailbox, position, recorder).poll_once()
    assert position.value == (first_validity, 2)

    # The mailbox is rebuilt (restored from a backup, recreated): UIDs start again under a new UIDVALIDITY.
    await imap.delete(mailbox)
    await imap.create(mailbox)
    new_validity, new_uid = await imap.append(message(3), mailbox)
    assert new_validity != first_validity and new_uid == 1

    assert await poller(dovecot, mailbox, position, recorder).poll_once() == 1
    assert recorder.handled[-1] == (1, "reply-3@example.org")
    assert position.value == (new_validity, 1)


async def test_a_stored_position_of_another_uidvalidity_is_ignored(
    dovecot: Dovecot, imap: ImapTestClient, mailbox: str
) -> None:
    validity, _ = await imap.append(message(1), mailbox)
    position, recorder = MemoryPosition((validity - 1, 50)), Recorder()
    assert await poller(dovecot, mailbox, position, recorder).poll_once() == 1
    assert position.value == (validity, 1)


async def test_opening_the_mailbox_changes_nothing(dovecot: Dovecot, imap: ImapTestClient, mailbox: str) -> None:
    await imap.append(message(1), mailbox)
    await imap.append(message(2), mailbox, flags="\\Seen")  # read in a mail client before the poller came
    position, recorder = MemoryPosition(), Recorder()
    await poller(dovecot, mailbox, position, recorder).poll_once()
    assert [uid for uid, _ in recorder.handled] == [1, 2]
    assert "\\Seen" not in (await imap.flags(mailbox))[1]  # BODY.PEEK: the poller never marks read

    # Someone opens the mailbox: everything read, one marked unread again, one flagged.
    await imap.read_everything(mailbox)
    await imap.store(mailbox, "1", "-FLAGS (\\Seen)")
    await imap.store(mailbox, "2", "+FLAGS (\\Flagged)")
    await imap.append(message(3), mailbox)
    await imap.store(mailbox, "3", "+FLAGS (\\Seen)")
    assert await poller(dovecot, mailbox, position, recorder).poll_once() == 1
    assert [uid for uid, _ in recorder.handled] == [1, 2, 3]
    flags = await imap.flags(mailbox)
    assert "\\Seen" not in flags[1] and {"\\Seen", "\\Flagged"} <= flags[2]  # as the person left them


async def test_batch_limit(dovecot: Dovecot, imap: ImapTestClient, mailbox: str) -> None:
    for number in (1, 2, 3):
        await imap.append(message(number), mailbox)
    position, recorder = MemoryPosition(), Recorder()
    assert await poller(dovecot, mailbox, position, recorder, batch_limit=2).poll_once() == 2
    assert await poller(dovecot, mailbox, position, recorder, batch_limit=2).poll_once() == 1
    assert [uid for uid, _ in recorder.handled] == [1, 2, 3]


async def test_implicit_tls(
    dovecot: Dovecot, imap: ImapTestClient, mailbox: str, certificate: Certificate | None
) -> None:
    if certificate is None:
        unavailable("the openssl tool is missing: no certificate for IMAP over TLS")
    assert certificate is not None
    await imap.append(message(1), mailbox)
    position, recorder = MemoryPosition(), Recorder()
    tls_poller = poller(
        dovecot, mailbox, position, recorder, port=dovecot.tls_port, tls="tls", ssl_context=certificate.client_context()
    )
    assert await tls_poller.poll_once() == 1


@pytest.mark.parametrize(
    ("label", "overrides"),
    [
        ("no such mailbox", {"mailbox": "does-not-exist"}),
        ("nothing listening", {"port": 9}),
    ],
)
async def test_failures_are_imap_errors_and_keep_the_position(
    dovecot: Dovecot, imap: ImapTestClient, mailbox: str, label: str, overrides: dict[str, Any]
) -> None:
    await imap.append(message(1), mailbox)
    position, recorder = MemoryPosition((7, 3)), Recorder()
    with pytest.raises(ImapError) as raised:
        await poller(dovecot, mailbox, position, recorder, **overrides).poll_once()
    assert position.value == (7, 3) and not recorder.handled, label
    assert dovecot.password not in str(raised.value)


async def test_a_wrong_password_is_an_imap_error(dovecot: Dovecot) -> None:
    """On a Dovecot of its own: after a failed login Dovecot delays that IP's next logins by seconds."""
    own = Dovecot()
    own.start()
    try:
        position, recorder = MemoryPosition((7, 3)), Recorder()
        with pytest.raises(ImapError, match="login refused") as raised:
            await poller(own, "INBOX", position, recorder, password="wrong").poll_once()
    finally:
        own.stop()
    assert position.value == (7, 3) and not recorder.handled
    assert "wrong" not in str(raised.value)


async def test_run_polls_until_stopped_and_outlasts_a_failing_store(
    dovecot: Dovecot, imap: ImapTestClient, mailbox: str
) -> None:
    position = MemoryPosition()
    recorder = Recorder(fail_on={"reply-1@example.org"}, failures=2)  # the store is down for two polls
    stop = asyncio.Event()
    running = asyncio.create_task(poller(dovecot, mailbox, position, recorder).run(0.05, stop))
    await imap.append(message(1), mailbox)
    for _ in range(200):
        if recorder.handled:
            break
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(running, timeout=5)
    assert recorder.failed == 2
    assert [uid for uid, _ in recorder.handled] == [1]


async def test_questions_sent_replies_polled_answers_and_bounces_read(
    dovecot: Dovecot, imap: ImapTestClient, mailbox: str
) -> None:
    """Everything together: aiosmtpd takes the question, Dovecot holds the replies, the channel reads them."""
    async with SmtpServer() as smtp:
        channel = EmailChannel(
            smtp_host="127.0.0.1",
            smtp_port=smtp.port,
            smtp_user="outreach",
            smtp_password="smtp-secret",
            sender=EMAIL_FROM,
            reply_domain=REPLY_DOMAIN,
            public_url="https://konsultacje.example",
            token_secret=EMAIL_TOKEN_SECRET.encode(),
            organisation="Miasto Gdańsk",
            tls="none",
        )
        choices = (Choice("yes", "Tak"), Choice("no", "Nie"))
        sent = await channel.send(Outbound("q:1:7:park:1", "email", "anna@example.org", "Więcej ławek?", choices))
    question = parse_reply(smtp.messages[0].content)
    assert question is not None
    token = sent.provider_id.partition("@")[0]

    reply = (
        "From: Anna <anna@example.org>\r\n"
        f"To: reply+{token}@{REPLY_DOMAIN}\r\n"
        "Subject: Re: =?utf-8?q?Wi=C4=99cej_=C5=82awek=3F?=\r\n"
        "Message-ID: <anna-1@example.org>\r\n"
        f"In-Reply-To: <{sent.provider_id}>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n"
        "2\r\n\r\nW dniu wt., 2 mar 2027 o 10:00 Miasto Gdańsk <konsultacje@konsultacje.example>\r\n"
        "napisał(a):\r\n> Więcej ławek?\r\n"
    ).encode()
    await imap.append(reply, mailbox)
    await imap.append((FIXTURES / "17_auto_submitted.eml").read_bytes(), mailbox)
    await imap.append((FIXTURES / "20_dsn_5_1_1.eml").read_bytes(), mailbox)

    events = []

    async def handle(raw: bytes, uid: int) -> None:
        events.append(channel.read(raw))

    await poller(dovecot, mailbox, MemoryPosition(), handle).poll_once()
    answer, auto_reply, bounce = events
    assert answer.inbound is not None and answer.parsed is not None
    assert (answer.inbound.address, answer.inbound.text, answer.inbound.provider_id) == (
        "anna@example.org",
        "2",
        "anna-1@example.org",
    )
    assert answer.parsed.token is not None and channel.message_id(answer.parsed.token) == sent.provider_id
    assert auto_reply.inbound is None and auto_reply.status is None
    assert bounce.status is not None and (bounce.status.status, bounce.status.error_code) == ("failed", "5.1.1")


# --- without a server ------------------------------------------------------------------------------


async def _never(raw: bytes, uid: int) -> None:
    raise AssertionError("nothing is handled here")


def offline_poller(**overrides: Any) -> ImapPoller:
    kwargs: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": 993,
        "user": "outreach",
        "password": "secret",
        "position": MemoryPosition(),
        "handle": _never,
    }
    kwargs.update(overrides)
    return ImapPoller(**kwargs)


@pytest.mark.parametrize(
    ("label", "overrides"),
    [
        ("STARTTLS is not offered by aioimaplib", {"tls": "starttls"}),
        ("no host", {"host": ""}),
        ("no user", {"user": ""}),
        ("port 0", {"port": 0}),
        ("zero timeout", {"timeout": 0}),
        ("zero batch", {"batch_limit": 0}),
        ("a quote in the mailbox name", {"mailbox": 'a"b'}),
        ("a non-ASCII mailbox name", {"mailbox": "Odpowiedzi/łąka"}),
    ],
)
def test_poller_constructor_rejects_table(label: str, overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        offline_poller(**overrides)


def test_mail_content_stays_out_of_the_logs() -> None:
    logger = logging.getLogger("aioimaplib")
    logger.setLevel(logging.DEBUG)
    offline_poller()
    assert logger.level == logging.WARNING  # aioimaplib logs every received byte at DEBUG


@pytest.mark.parametrize(
    ("lines", "uids"),
    [
        ([b"4 5 6", b"Search completed (0.001 + 0.000 secs)."], [4, 5, 6]),
        ([b"SEARCH 7", b"Search completed."], [7]),
        ([b"", b"Search completed (0.001 + 0.000 secs)."], []),
        ([b"Search completed (0.001 + 0.000 secs)."], []),
    ],
)
def test_search_answers(lines: list[bytes], uids: list[int]) -> None:
    assert _search_uids(lines) == uids


def test_fetch_answers() -> None:
    body = bytearray(b"From: a@example.org\r\n\r\nTak\r\n")
    assert _literal([b"2 FETCH (UID 7 BODY[] {30}", body, b")", b"Fetch completed."], 7) == bytes(body)
    assert _literal([b"2 FETCH (BODY[] {30}", body, b" UID 7)", b"Fetch completed."], 7) == bytes(body)
    assert _literal([b"Fetch completed."], 7) is None  # expunged in the meantime
    assert _literal([b"2 FETCH (UID 8 BODY[] {30}", body, b")", b"Fetch completed."], 7) is None
