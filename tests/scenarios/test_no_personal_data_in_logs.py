"""Whoever reads the service's logs learns no resident's address, answer or token.

A whole consultation runs on SMS, Telegram and email through the real adapters, the provider
stand-ins, a real SMTP server and Dovecot: answers by SMS, a Telegram tap and a typed message, an
answer-link click, a reply mail read by IMAP, a STOP by SMS, a one-click unsubscribe, a delivery
report and a bounce. Every log record of every logger is captured at DEBUG (the root level; loggers
the service itself keeps quieter stay so, as in `outreach serve` at OUTREACH_LOG_LEVEL=DEBUG) and
searched for every phone number (E.164 and national forms), email address, chat id, answer text,
token the service issued and provider secret.
"""

from __future__ import annotations

import contextlib
import email
import logging
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import col

from channels.email import EmailChannel
from outreach.inbound.mailbox import mailbox_poller
from outreach.inbound.pipeline import Outcome
from storage.address_keys import address_of
from storage.tables import ContactAddress
from tests import providers
from tests.conftest import ManualClock, unavailable
from tests.factories import add_resident
from tests.outreach.helpers import inbound_outcomes, launch, responses
from tests.servers import dovecot as dovecot_server
from tests.servers.dovecot import Dovecot
from tests.servers.imap import ImapTestClient
from tests.world import World, open_world

pytestmark = pytest.mark.slow

SMS_RESIDENT, SMS_QUITTER = "+48600100200", "+48601200300"
CHAT = 731948265
MAIL_RESIDENT, MAIL_QUITTER = "ola.kowalska@example.org", "jan.nowak@example.net"
MAIL_BOUNCING = "nie.ma.takiego@gmail.com"  # the recipient the bounce fixture names

# What residents write: each must stay out of the logs.
SMS_ANSWER = "Tak, jeżdżę ósemką"
SMS_SUGGESTION = "Więcej ławek na przystanku Łostowice"
TELEGRAM_SUGGESTION = "Brakuje wiaty na pętli Świętokrzyska"
MAIL_SUGGESTION = "Proszę o częstsze kursy linii 8 wieczorem"

CAMPAIGN = """
name: Tramwaj nocą
languages: [pl]
channels: [sms, telegram, email]
schedule: {quiet_hours: null}
questions:
  - {id: uses_tram, type: yesno, text: {pl: "Czy jeździsz tramwajem?"}}
  - {id: improve, type: text, text: {pl: "Co poprawić?"}}
outro: {pl: "Dziękujemy!"}
"""

# aiosmtpd's session log: the mail relay's (the city's relay, which the test's SMTP server stands in
# for), not the service's; it quotes every envelope and mail line, as a relay's debug log would.
RELAY_LOG = "mail.log"
BOUNCE = Path(__file__).parents[1] / "channels" / "email_fixtures" / "20_dsn_5_1_1.eml"
TOKEN_IN_MAIL = re.compile(rb"(?:reply\+|unsubscribe\+|/answer/|/unsubscribe/|<)([a-z2-7]{16,})(?:@|/|\b)")


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    reason = dovecot_server.available()
    if reason is not None:
        unavailable(reason)
    server = Dovecot()
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def imap(dovecot: Dovecot) -> AsyncIterator[tuple[ImapTestClient, str]]:
    async with ImapTestClient(dovecot.port, dovecot.user, dovecot.password) as client:
        mailbox = f"replies-{uuid.uuid4().hex[:10]}"
        await client.create(mailbox)
        yield client, mailbox


def reply_mail(question: bytes, sender: str, text: str) -> bytes:
    """A resident's answer to a question mail, as their mail program sends it."""
    original = email.message_from_bytes(question)
    reply = EmailMessage()
    reply["From"] = f"Ola Kowalska <{sender}>"
    reply["To"] = str(original["Reply-To"])
    reply["Subject"] = f"Re: {original['Subject']}"
    reply["Message-ID"] = f"<{uuid.uuid4().hex}@mail.example.org>"
    reply["In-Reply-To"] = str(original["Message-ID"])
    reply.set_content(f"{text}\n\nW dniu wt., 2 mar 2027 o 10:00 Miasto Gdańsk napisał(a):\n> Co poprawić?\n")
    return reply.as_bytes()


def mail_to(world: World, address: str) -> bytes:
    """The latest mail the service sent to `address`."""
    return [mail for mail in world.smtp.messages if address in mail.rcpt_tos][-1].content


def record_texts(record: logging.LogRecord) -> list[str]:
    """Everything a log handler could write of `record`: its message with and without arguments, the
    arguments themselves, a traceback and a stack."""
    texts = [str(record.msg), repr(record.args), record.exc_text or "", record.stack_info or ""]
    with contextlib.suppress(TypeError, ValueError):  # a record whose arguments do not fit its message
        texts.append(record.getMessage())
    if record.exc_info:
        texts.append(logging.Formatter().formatException(record.exc_info))
    return texts


async def test_a_whole_consultation_logs_no_address_answer_or_token(
    database_url: str,
    clock: ManualClock,
    dovecot: Dovecot,
    imap: tuple[ImapTestClient, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    imap_client, mailbox = imap
    caplog.set_level(logging.DEBUG)
    async with open_world(
        database_url,
        clock,
        twilio=True,
        telegram=True,
        smtp=True,
        imap_host="127.0.0.1",
        imap_port=dovecot.port,
        imap_user=dovecot.user,
        imap_password=dovecot.password,
        imap_mailbox=mailbox,
        imap_tls="none",
        # no real-time pacing between mails (1 a second) or a chat's messages: the dispatcher's tests pace
        rate_email_per_minute=60_000,
        rate_telegram_per_chat_per_second=1000.0,
    ) as world:
        services = world.services
        for address in (SMS_RESIDENT, SMS_QUITTER):
            await add_resident(services, phone=address)
        await add_resident(services, telegram=str(CHAT))
        for address in (MAIL_RESIDENT, MAIL_QUITTER, MAIL_BOUNCING):
            await add_resident(services, email=address)
        await launch(services, CAMPAIGN)
        assert await services.dispatcher.drain() == 6
        channel = services.channels["email"]
        assert isinstance(channel, EmailChannel)
        sms_webhook = world.url("/webhooks/twilio/sms")
        telegram_webhook = world.url("/webhooks/telegram")

        # First answers: an SMS, a tap, a click on an answer link (GET shows, POST records); a STOP by
        # SMS, a one-click unsubscribe, a delivery report and a bounce.
        await world.twilio.deliver_inbound(sms_webhook, from_=SMS_RESIDENT, to=providers.SMS_FROM, body=SMS_ANSWER)
        await world.twilio.deliver_inbound(sms_webhook, from_=SMS_QUITTER, to=providers.SMS_FROM, body="STOP")
        [asked] = world.telegram.messages(CHAT)
        tap = world.telegram.callback_update(CHAT, "a:1:uses_tram:yes", asked["message_id"])
        assert await world.telegram.post_update(telegram_webhook, tap, providers.TELEGRAM_WEBHOOK_SECRET) == 200
        link = re.search(rb"http://127\.0\.0\.1:\d+(/answer/[a-z2-7]+/yes)", mail_to(world, MAIL_RESIDENT))
        unsubscribe = re.search(rb"/unsubscribe/[a-z2-7]+", mail_to(world, MAIL_QUITTER))
        assert link is not None and unsubscribe is not None
        assert (await world.client.get(link.group(1).decode())).status == 200
        assert (await world.client.post(link.group(1).decode())).status == 200
        one_click = {"List-Unsubscribe": "One-Click"}
        assert (await world.client.post(unsubscribe.group(0).decode(), data=one_click)).status == 200
        [sms] = [message for message in world.twilio.messages if message.to == SMS_RESIDENT]
        assert await world.twilio.deliver_status(sms.sid, "delivered") == 200
        bounced = str(email.message_from_bytes(mail_to(world, MAIL_BOUNCING))["Message-ID"]).strip("<>")
        original = re.search(rb"<([a-z2-7]+@odpowiedzi\.konsultacje\.example)>", BOUNCE.read_bytes())
        assert original is not None
        await imap_client.append(BOUNCE.read_bytes().replace(original.group(1), bounced.encode()), mailbox)
        assert await mailbox_poller(services, channel).poll_once() == 1
        assert await services.dispatcher.drain() == 5  # the second question thrice; STOP's, unsubscribe's confirmation

        # Second answers, in words: an SMS, a Telegram message, a reply mail read by IMAP.
        await world.twilio.deliver_inbound(sms_webhook, from_=SMS_RESIDENT, to=providers.SMS_FROM, body=SMS_SUGGESTION)
        typed = world.telegram.message_update(CHAT, TELEGRAM_SUGGESTION)
        assert await world.telegram.post_update(telegram_webhook, typed, providers.TELEGRAM_WEBHOOK_SECRET) == 200
        await imap_client.append(reply_mail(mail_to(world, MAIL_RESIDENT), MAIL_RESIDENT, MAIL_SUGGESTION), mailbox)
        assert await mailbox_poller(services, channel).poll_once() == 1
        await services.dispatcher.drain()
        issued = {token.decode() for mail in world.smtp.messages for token in TOKEN_IN_MAIL.findall(mail.content)}

    # It all happened (the scan below means something).
    assert sorted(await responses(services)) == sorted(
        [("uses_tram", "yes")] * 3
        + [("improve", text) for text in (SMS_SUGGESTION, TELEGRAM_SUGGESTION, MAIL_SUGGESTION)]
    )
    async with services.sessions() as session:
        unreachable = await session.execute(
            select(ContactAddress).where(col(ContactAddress.unreachable_at).is_not(None))
        )
        assert [address_of(session, contact) for contact in unreachable.scalars()] == [MAIL_BOUNCING]
    outcomes = await inbound_outcomes(services)
    assert outcomes.count(Outcome.ANSWERED.value) == 6 and outcomes.count(Outcome.STOPPED.value) == 2
    assert len(issued) >= 4 and any(record.name.startswith("outreach") for record in caplog.records)

    secrets = {
        "phone": [SMS_RESIDENT, SMS_QUITTER, "600100200", "601200300", "600 100 200", "601 200 300"],
        "email": [MAIL_RESIDENT, MAIL_QUITTER, MAIL_BOUNCING, "ola.kowalska", "jan.nowak", "nie.ma.takiego"],
        "chat id": [str(CHAT)],
        "answer": [SMS_ANSWER, SMS_SUGGESTION, TELEGRAM_SUGGESTION, MAIL_SUGGESTION],
        "token": sorted(issued),
        "provider secret": [
            providers.TWILIO_AUTH_TOKEN,
            providers.TELEGRAM_BOT_TOKEN.partition(":")[2],
            providers.TELEGRAM_WEBHOOK_SECRET,
            providers.EMAIL_TOKEN_SECRET,
            dovecot_server.PASSWORD,
        ],
    }
    leaks = [
        f"{record.name} {record.levelname} carries a {kind}: {text!r}"
        for record in caplog.records
        if record.name != RELAY_LOG
        for text in record_texts(record)
        for kind, values in secrets.items()
        for value in values
        if value in text
    ]
    assert leaks == []
