"""One campaign to residents on SMS, Telegram and email, end to end over real sockets: the real
adapters send through the Twilio and Telegram stand-ins and a real SMTP server (aiosmtpd); residents
answer by a signed inbound SMS, a button tap, a reply mail read back from Dovecot by IMAP and a click
on an answer link; the results are complete and exact."""

from __future__ import annotations

import email
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from email.message import EmailMessage

import pytest
from sqlalchemy import select
from sqlmodel import col

from channels.email import EmailChannel
from channels.standins.telegram import TelegramStandIn
from channels.standins.twilio import TwilioStandIn
from flows.answer_labels import question_types
from outreach.bootstrap import Services
from outreach.inbound.mailbox import mailbox_poller
from outreach.inbound.pipeline import Outcome
from storage.address_keys import address_keys
from storage.campaigns import CampaignRepository
from storage.db import read_session
from storage.read_models import campaign_results
from storage.tables import CampaignRecord, InboundEvent
from tests.conftest import ManualClock, unavailable
from tests.factories import add_resident
from tests.outreach.helpers import inbound_outcomes, launch, responses
from tests.providers import SMS_FROM
from tests.providers import TELEGRAM_WEBHOOK_SECRET as BOT_SECRET
from tests.servers import dovecot as dovecot_server
from tests.servers.dovecot import Dovecot
from tests.servers.imap import ImapTestClient
from tests.servers.smtp import SmtpServer
from tests.world import AppClient, open_world

pytestmark = pytest.mark.slow

PHONE, CHAT, MAIL = "+48600100200", 515151, "ola@example.org"

CAMPAIGN = """
name: Trzy kanały
languages: [pl]
channels: [sms, telegram, email]
schedule: {quiet_hours: null}
questions:
  - {id: uses_tram, type: yesno, text: {pl: "Czy jeździsz tramwajem?"}}
  - id: frequency
    type: choice
    text: {pl: "Jak często?"}
    options:
      - {key: daily, text: {pl: codziennie}}
      - {key: weekly, text: {pl: co tydzień}}
outro: {pl: "Dziękujemy!"}
"""


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    reason = dovecot_server.available()
    if reason is not None:
        unavailable(reason)
    server = Dovecot()
    server.start()
    yield server
    server.stop()


@dataclass
class World:
    services: Services
    client: AppClient
    twilio: TwilioStandIn
    telegram: TelegramStandIn
    smtp: SmtpServer
    imap: ImapTestClient
    mailbox: str
    public_url: str


@pytest.fixture
async def world(database_url: str, clock: ManualClock, dovecot: Dovecot) -> AsyncIterator[World]:
    async with ImapTestClient(dovecot.port, dovecot.user, dovecot.password) as imap:
        mailbox = f"replies-{uuid.uuid4().hex[:10]}"
        await imap.create(mailbox)
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
        ) as opened:
            yield World(
                opened.services,
                opened.client,
                opened.twilio,
                opened.telegram,
                opened.smtp,
                imap,
                mailbox,
                opened.public_url,
            )


def reply_mail(question: bytes, text: str) -> bytes:
    """What a resident's mail program sends back: To the Reply-To, In-Reply-To the Message-ID, the
    question quoted below Polish Gmail's attribution line."""
    original = email.message_from_bytes(question)
    reply = EmailMessage()
    reply["From"] = f"Ola <{MAIL}>"
    reply["To"] = str(original["Reply-To"])
    reply["Subject"] = f"Re: {original['Subject']}"
    reply["Message-ID"] = f"<{uuid.uuid4().hex}@mail.example.org>"
    reply["In-Reply-To"] = str(original["Message-ID"])
    reply.set_content(
        f"{text}\n\nW dniu wt., 2 mar 2027 o 10:00 Miasto Gdańsk napisał(a):\n> Czy jeździsz tramwajem?\n"
    )
    return reply.as_bytes()


async def test_one_campaign_answered_on_sms_telegram_and_email(world: World) -> None:
    services = world.services
    await add_resident(services, phone=PHONE)
    await add_resident(services, telegram=str(CHAT))
    await add_resident(services, email=MAIL)
    await launch(services, CAMPAIGN)
    assert await services.dispatcher.drain() == 3
    [sms] = world.twilio.messages
    [telegram_question] = world.telegram.messages(CHAT)
    [mail] = world.smtp.messages
    assert sms.to == PHONE and mail.rcpt_tos == (MAIL,)

    # SMS: a signed inbound message; Telegram: a tap on the "tak" button; email: a reply mail in the
    # mailbox, read by the IMAP poller.
    await world.twilio.deliver_inbound(f"{world.public_url}/webhooks/twilio/sms", from_=PHONE, to=SMS_FROM, body="Tak")
    tap = world.telegram.callback_update(CHAT, "a:1:uses_tram:yes", telegram_question["message_id"])
    assert await world.telegram.post_update(f"{world.public_url}/webhooks/telegram", tap, BOT_SECRET) == 200
    await world.imap.append(reply_mail(mail.content, "Tak, jeżdżę"), world.mailbox)
    channel = services.channels["email"]
    assert isinstance(channel, EmailChannel)
    assert await mailbox_poller(services, channel).poll_once() == 1
    assert await services.dispatcher.drain() == 3  # the second question, on each channel

    # Second answers: typed on SMS and Telegram, a click on an email answer link (GET shows, POST records).
    await world.twilio.deliver_inbound(f"{world.public_url}/webhooks/twilio/sms", from_=PHONE, to=SMS_FROM, body="2")
    typed = world.telegram.message_update(CHAT, "codziennie")
    assert await world.telegram.post_update(f"{world.public_url}/webhooks/telegram", typed, BOT_SECRET) == 200
    second_mail = world.smtp.messages[-1].content.decode()
    [link] = re.findall(r"http://127\.0\.0\.1:\d+(/answer/[a-z2-7]+/daily)", second_mail)[:1]
    assert (await world.client.get(link)).status == 200
    assert await responses(services) == [("uses_tram", "yes")] * 3 + [("frequency", "weekly"), ("frequency", "daily")]
    assert (await world.client.post(link)).status == 200

    async with read_session(services.sessions) as session:
        record_types = question_types(services.definitions.flow(await _campaign(services)))
        results = await campaign_results(session, 1, record_types)
    assert (results.contacted, results.respondents) == (3, 3)
    assert dict(results.questions["uses_tram"].counts) == {"yes": 3}
    assert dict(results.questions["frequency"].counts) == {"weekly": 1, "daily": 2}
    outcomes = await inbound_outcomes(services)
    assert outcomes.count(Outcome.ANSWERED.value) == 6
    async with services.sessions() as session:
        by_email = (
            select(col(InboundEvent.text), col(InboundEvent.full_text))
            .where(col(InboundEvent.channel) == "email")
            .where(col(InboundEvent.provider_id).not_like("link:%"))  # the mail, not the link click
        )
        keys = address_keys(session)  # kept encrypted (revision 0030)
        texts = [
            (keys.open_message("email", "text", text), keys.open_message("email", "full_text", full))
            for text, full in (await session.execute(by_email)).all()
        ]
    [(reply_text, full_text)] = texts
    assert reply_text == "Tak, jeżdżę" and full_text is not None and "napisał(a):" in full_text  # kept for audit


async def _campaign(services: Services) -> CampaignRecord:
    async with services.sessions() as session:
        return await CampaignRepository(session).get(1)


async def _emailed(world: World) -> tuple[str, bytes]:
    """Launch to one email resident; (the reply token, the raw question mail)."""
    await add_resident(world.services, email=MAIL)
    await launch(world.services, CAMPAIGN)
    await world.services.dispatcher.drain()
    [mail] = world.smtp.messages
    token = re.search(rb"reply\+([a-z2-7]+)@", mail.content)
    assert token is not None
    return token.group(1).decode(), mail.content


async def test_an_answer_link_records_only_on_post(world: World) -> None:
    token, _ = await _emailed(world)
    for _ in range(3):  # a mail scanner opening the link, several times
        page = await world.client.get(f"/answer/{token}/yes")
        assert page.status == 200 and "<form" in await page.text()
    assert await responses(world.services) == []
    assert (await world.client.post(f"/answer/{token}/yes")).status == 200
    assert (await world.client.post(f"/answer/{token}/no")).status == 200  # a second click: not counted
    assert await responses(world.services) == [("uses_tram", "yes")]
    assert (await world.client.get(f"/answer/{token}/maybe")).status == 404
    assert (await world.client.get("/answer/not-a-token/yes")).status == 404


async def test_one_click_unsubscribe_acts_only_on_post(world: World) -> None:
    token, raw = await _emailed(world)
    message = email.message_from_bytes(raw)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"/unsubscribe/{token}" in str(message["List-Unsubscribe"])
    assert (await world.client.get(f"/unsubscribe/{token}")).status == 200
    assert await inbound_outcomes(world.services) == []
    one_click = await world.client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    assert one_click.status == 200
    assert await inbound_outcomes(world.services) == ["stopped"]


async def test_a_bounce_in_the_mailbox_marks_the_address_unreachable(world: World) -> None:
    from pathlib import Path

    from sqlalchemy import select

    from storage.tables import ContactAddress

    token, _ = await _emailed(world)
    fixture = (Path(__file__).parents[1] / "channels" / "email_fixtures" / "20_dsn_5_1_1.eml").read_bytes()
    original = re.search(rb"<([a-z2-7]+)@odpowiedzi\.konsultacje\.example>", fixture)
    assert original is not None
    bounce = fixture.replace(original.group(1), token.encode())
    await world.imap.append(bounce, world.mailbox)
    channel = world.services.channels["email"]
    assert isinstance(channel, EmailChannel)
    await mailbox_poller(world.services, channel).poll_once()
    async with world.services.sessions() as session:
        contact = (await session.execute(select(ContactAddress))).scalar_one()
    assert contact.unreachable_at is not None
