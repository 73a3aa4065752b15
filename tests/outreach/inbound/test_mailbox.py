"""Email sends and the mail that comes back, through the real storage on each database: a reply
domain of any length a domain may have gives Message-IDs the outbox records, and the replies and
bounces naming them are matched; a resident's mail program may write long Message-IDs of its own.

SQLite does not enforce VARCHAR lengths: the PostgreSQL run is the one that shows a column too short
(the conftest fixtures run every test on both, and with CI=true a missing server fails the run)."""

from __future__ import annotations

import email
import re
import uuid
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from channels.email import EmailChannel
from outreach.bootstrap import Services, bootstrap
from outreach.inbound.mailbox import handle_mail
from outreach.inbound.pipeline import Outcome
from outreach.settings import Settings
from storage.outbox import NewMessage, OutboxRepository
from storage.tables import ContactAddress, EarlyDeliveryReport, InboundEvent, OutboxMessage
from tests.conftest import ManualClock
from tests.factories import add_resident
from tests.outreach.helpers import inbound_outcomes, launch, responses
from tests.servers.smtp import SmtpServer

MAIL = "ola@example.org"
GDANSK = "odpowiedzi.konsultacje.gdansk.pl"  # 32 characters: a Message-ID of 65, past the old 64
LONGEST = ".".join(("a" * 63, "b" * 63, "c" * 63, "d" * 61))  # 253: the longest name DNS allows
BOUNCE = Path(__file__).parents[2] / "channels" / "email_fixtures" / "20_dsn_5_1_1.eml"

CAMPAIGN = """
name: Długa domena
languages: [pl]
channels: [email]
schedule: {quiet_hours: null}
questions:
  - {id: uses_tram, type: yesno, text: {pl: "Czy jeździsz tramwajem?"}}
outro: {pl: "Dziękujemy!"}
"""


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpServer]:
    async with SmtpServer() as server:
        yield server


def email_settings(database_url: str, smtp: SmtpServer, reply_domain: str, **extra: Any) -> Settings:
    return Settings(
        database_url=database_url,
        public_url="http://127.0.0.1:8080",
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_user=smtp.user,
        smtp_password=smtp.password,
        smtp_from="konsultacje@gdansk.example",
        smtp_tls="none",
        email_reply_domain=reply_domain,
        email_token_secret="a-token-secret-of-32-characters!",
        _env_file=None,
        **extra,
    )


async def emailed(services: Services, smtp: SmtpServer) -> tuple[EmailChannel, bytes]:
    """Launch to one email resident and send; (the channel, the raw question mail)."""
    await add_resident(services, email=MAIL)
    await launch(services, CAMPAIGN)
    assert await services.dispatcher.drain() == 1
    [mail] = smtp.messages
    channel = services.channels["email"]
    assert isinstance(channel, EmailChannel)
    return channel, mail.content


def reply_mail(question: bytes, text: str, *, message_id: str | None = None) -> bytes:
    """A resident's answer: To the Reply-To, In-Reply-To the question's Message-ID."""
    original = email.message_from_bytes(question)
    reply = EmailMessage()
    reply["From"] = f"Ola <{MAIL}>"
    reply["To"] = str(original["Reply-To"])
    reply["Subject"] = f"Re: {original['Subject']}"
    reply["Message-ID"] = message_id or f"<{uuid.uuid4().hex}@mail.example.org>"
    reply["In-Reply-To"] = str(original["Message-ID"])
    reply.set_content(f"{text}\n")
    return reply.as_bytes()


async def sent_rows(services: Services) -> list[tuple[str, str | None]]:
    async with services.sessions() as session:
        rows = await session.execute(select(col(OutboxMessage.status), col(OutboxMessage.provider_id)))
        return [(status, provider_id) for status, provider_id in rows.all()]


@pytest.mark.parametrize("reply_domain", [GDANSK, LONGEST], ids=["32-characters", "253-characters"])
async def test_a_send_with_a_long_reply_domain_is_recorded_and_its_reply_matched(
    database_url: str, clock: ManualClock, smtp: SmtpServer, reply_domain: str
) -> None:
    services = bootstrap(email_settings(database_url, smtp, reply_domain), clock=clock)
    try:
        channel, question = await emailed(services, smtp)
        message_id = email.message_from_bytes(question)["Message-ID"]
        assert re.fullmatch(rf"<[a-z2-7]{{32}}@{re.escape(reply_domain)}>", str(message_id))
        assert await sent_rows(services) == [("sent", str(message_id)[1:-1])]

        # The resident answers from an alias: only the token (in To and In-Reply-To) says who it is.
        await handle_mail(services, channel, reply_mail(question, "Tak").replace(MAIL.encode(), b"ola@alias.org"))
        assert await responses(services) == [("uses_tram", "yes")]
        assert await inbound_outcomes(services) == [Outcome.ANSWERED.value]
    finally:
        await services.close()


async def test_a_bounce_of_a_send_with_a_long_reply_domain_finds_the_address(
    database_url: str, clock: ManualClock, smtp: SmtpServer
) -> None:
    services = bootstrap(email_settings(database_url, smtp, LONGEST), clock=clock)
    try:
        channel, question = await emailed(services, smtp)
        ours = re.search(rb"Message-ID: <([a-z2-7]{32}@[a-z.]+)>", question)
        assert ours is not None and ours.group(1).endswith(LONGEST.encode())
        # A real DSN (Postfix, 5.1.1) about the message we sent: its headers name our Message-ID.
        bounce = re.sub(rb"[a-z2-7]{32}@odpowiedzi\.konsultacje\.example", ours.group(1), BOUNCE.read_bytes())
        await handle_mail(services, channel, bounce)
        async with services.sessions() as session:
            contact = (await session.execute(select(ContactAddress))).scalar_one()
        assert contact.unreachable_at is not None
    finally:
        await services.close()


@pytest.mark.parametrize("length", [300, 984, 5000])
async def test_a_reply_with_a_long_message_id_of_its_own_is_recorded_once(
    database_url: str, clock: ManualClock, smtp: SmtpServer, length: int
) -> None:
    """Up to 984 characters (a Message-ID fills at most a 998-character header line) it is kept as it
    is; a longer one, which no standard mail has, is kept as its digest: either way the mail is
    recorded and a second copy of it is a duplicate, never an error that holds up the mailbox."""
    services = bootstrap(email_settings(database_url, smtp, "odpowiedzi.example"), clock=clock)
    try:
        channel, question = await emailed(services, smtp)
        own_id = "x" * (length - len("@mail.example.org")) + "@mail.example.org"
        reply = reply_mail(question, "Tak", message_id=f"<{own_id}>")
        await handle_mail(services, channel, reply)
        await handle_mail(services, channel, reply)  # the poller handed it over again
        assert await responses(services) == [("uses_tram", "yes")]
        assert await inbound_outcomes(services) == [Outcome.ANSWERED.value]  # a duplicate stores nothing
        async with services.sessions() as session:
            [stored] = (await session.execute(select(col(InboundEvent.provider_id)))).scalars().all()
        if length <= 984:
            assert stored == own_id
        else:
            assert re.fullmatch(r"sha256:[0-9a-f]{64}", stored)
    finally:
        await services.close()


async def test_a_bounce_naming_a_message_id_longer_than_any_of_ours_is_dropped(
    database_url: str, clock: ManualClock, smtp: SmtpServer
) -> None:
    services = bootstrap(email_settings(database_url, smtp, "odpowiedzi.example"), clock=clock)
    try:
        channel, _ = await emailed(services, smtp)
        unknown = b"y" * 5000 + b"@odpowiedzi.example"
        bounce = re.sub(rb"[a-z2-7]{32}@odpowiedzi\.konsultacje\.example", unknown, BOUNCE.read_bytes())
        await handle_mail(services, channel, bounce)
        async with services.sessions() as session:
            contact = (await session.execute(select(ContactAddress))).scalar_one()
            early = (await session.execute(select(EarlyDeliveryReport))).scalars().all()
        assert contact.unreachable_at is None and early == []
    finally:
        await services.close()


async def _a_telegram_message_sent_as(services: Services, provider_id: str) -> None:
    """A Telegram message the service sent, known to Telegram by a small integer (they repeat per chat)."""
    resident = await add_resident(services, telegram="700100200")
    async with services.sessions() as session, session.begin():
        contact = (await session.execute(select(ContactAddress))).scalar_one()
        assert resident.id is not None and contact.id is not None
        outbox = OutboxRepository(session)
        assert await outbox.enqueue(NewMessage("q:1", resident.id, contact.id, "question", "?"), now=services.clock())
        message = (await session.execute(select(OutboxMessage))).scalar_one()
        assert message.id is not None and message.channel == "telegram"
        await outbox.mark_sent(message.id, provider_id=provider_id, now=services.clock())


@pytest.mark.parametrize(
    "named",
    [
        "1",  # the id of the Telegram message itself
        "abc@odpowiedzi.example",  # our domain, not a token
        "a" * 32 + "@mail.example.org",  # a token's shape, another domain
    ],
)
async def test_a_bounce_naming_anything_but_our_message_ids_changes_nothing(
    database_url: str, clock: ManualClock, smtp: SmtpServer, named: str
) -> None:
    """Anyone can mail a delivery report to the mailbox: it speaks only of email sends, by the full
    Message-ID we generated (TOKEN@reply domain); any other id is no message of ours, and is not kept."""
    services = bootstrap(email_settings(database_url, smtp, "odpowiedzi.example"), clock=clock)
    try:
        channel = services.channels["email"]
        assert isinstance(channel, EmailChannel)
        await _a_telegram_message_sent_as(services, "1")
        bounce = re.sub(rb"[a-z2-7]{32}@odpowiedzi\.konsultacje\.example", named.encode(), BOUNCE.read_bytes())
        assert f"<{named}>".encode() in bounce
        await handle_mail(services, channel, bounce)
        async with services.sessions() as session:
            message = (await session.execute(select(OutboxMessage))).scalar_one()
            contact = (await session.execute(select(ContactAddress))).scalar_one()
            early = (await session.execute(select(EarlyDeliveryReport))).scalars().all()
        assert (message.delivery_status, message.delivery_error) == (None, None)
        assert contact.unreachable_at is None and early == []
    finally:
        await services.close()


@pytest.mark.parametrize("to_us", [True, False], ids=["with-our-token", "tokenless"])
async def test_a_mail_with_a_nul_is_handled_once_and_the_mailbox_goes_on(
    database_url: str, clock: ManualClock, smtp: SmtpServer, to_us: bool
) -> None:
    """A NUL in a reply (`=00` in quoted-printable) is text PostgreSQL refuses: once, the mail was
    kept as a failed event (before that, the poller tried it again at every poll, for good). Since
    revision 0030 what a resident wrote is stored sealed (base64), so no NUL reaches the store: the
    mail is handled as any other, once, on either database, and handle_mail returns."""
    services = bootstrap(email_settings(database_url, smtp, "odpowiedzi.example"), clock=clock)
    try:
        channel, question = await emailed(services, smtp)
        reply = reply_mail(question, "Tak\x00 na pewno")
        if not to_us:  # written to the mailbox from scratch: no reply address, no reference of ours
            mail = email.message_from_bytes(reply)
            del mail["In-Reply-To"]
            mail.replace_header("To", "odpowiedzi@odpowiedzi.example")
            reply = mail.as_bytes()
        await handle_mail(services, channel, reply)
        await handle_mail(services, channel, reply)  # the poller may hand it over again
        outcomes = await inbound_outcomes(services)
        assert outcomes == [Outcome.ANSWERED.value if to_us else Outcome.UNVERIFIED.value]
    finally:
        await services.close()
