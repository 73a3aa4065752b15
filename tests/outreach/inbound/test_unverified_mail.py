"""Mail that carries no token the service issued speaks for nobody: anyone can write any From. Such a mail
is kept for audit and changes no resident (no STOP, no START, no answer); a tokenless STOP from a
known, subscribed address gets one reply a day whose one-click link unsubscribes; a DMARC pass stamped
by our own receiving server (its authserv-id, a setting) vouches for the From address."""

from __future__ import annotations

import email
import logging
import re
import uuid
from collections.abc import AsyncIterator
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from channels.email import EmailChannel
from channels.email_tokens import reply_token
from outreach.bootstrap import Services, bootstrap
from outreach.inbound.mailbox import handle_mail
from outreach.inbound.pipeline import Outcome
from storage.address_keys import address_keys
from storage.tables import ContactAddress, InboundEvent
from tests import providers
from tests.conftest import ManualClock
from tests.factories import add_resident
from tests.outreach.helpers import inbound_outcomes, launch, outbox, responses
from tests.outreach.inbound.test_mailbox import CAMPAIGN, MAIL, email_settings, emailed, reply_mail
from tests.servers.smtp import SmtpServer
from tests.world import open_world

REPLY_DOMAIN = "odpowiedzi.example"
OUR_SERVER = "mx.odpowiedzi.example"
STRANGER = "obcy@example.net"


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpServer]:
    async with SmtpServer() as server:
        yield server


@pytest.fixture
async def services(database_url: str, clock: ManualClock, smtp: SmtpServer) -> AsyncIterator[Services]:
    wired = bootstrap(email_settings(database_url, smtp, REPLY_DOMAIN, email_authserv_id=OUR_SERVER), clock=clock)
    yield wired
    await wired.close()


def tokenless(text: str, *, sender: str = MAIL, to: str | None = None, results: tuple[str, ...] = ()) -> bytes:
    """A mail written from scratch, as a forger (or a resident on a new mail) writes it: no reply token."""
    mail = EmailMessage()
    for value in results:  # in the order given: the first is the topmost
        mail["Authentication-Results"] = value
    mail["From"] = sender
    mail["To"] = to or f"odpowiedzi@{REPLY_DOMAIN}"
    mail["Subject"] = text
    mail["Message-ID"] = f"<{uuid.uuid4().hex}@forger.example>"
    mail.set_content(f"{text}\n")
    return mail.as_bytes()


async def contact(services: Services) -> ContactAddress:
    async with services.sessions() as session:
        return (await session.execute(select(ContactAddress))).scalar_one()


async def audit(services: Services) -> list[tuple[str, int | None, str]]:
    async with services.sessions() as session:
        rows = await session.execute(select(InboundEvent).order_by(InboundEvent.id))  # type: ignore[arg-type]
        keys = address_keys(session)
        return [
            (event.outcome, event.contact_id, keys.open_message(event.channel, "text", event.text) or "")
            for event in rows.scalars()
        ]


@pytest.mark.parametrize("text", ["STOP", "START", "Tak"])
async def test_a_forged_mail_changes_no_resident(
    services: Services, smtp: SmtpServer, text: str, caplog: pytest.LogCaptureFixture
) -> None:
    channel, question = await emailed(services, smtp)
    if text == "START":  # the resident left (by their own reply, which carries the token) …
        await handle_mail(services, channel, reply_mail(question, "STOP"))
    before = await contact(services)
    with caplog.at_level(logging.DEBUG, logger="outreach"):
        await handle_mail(services, channel, tokenless(text))  # … and a forger writes as them
    assert caplog.records and not any(
        secret in record.getMessage() for record in caplog.records for secret in (MAIL, "forger.example", text)
    )
    after = await contact(services)
    assert after.opted_out_at == before.opted_out_at
    assert (after.opted_out_at is None) == (text != "START")
    assert await responses(services) == []
    outcome, contact_id, stored_text = (await audit(services))[-1]
    assert outcome in (Outcome.UNVERIFIED.value, Outcome.UNVERIFIED_STOP_LINK.value)
    assert contact_id is None and stored_text == text  # kept for audit, linked to no resident


async def test_an_unsubscribe_address_whose_token_matches_nothing_does_nothing(
    services: Services, smtp: SmtpServer
) -> None:
    channel, _ = await emailed(services, smtp)
    forged = reply_token(b"some-other-secret-0123456789", "anything")
    await handle_mail(services, channel, tokenless("", to=f"unsubscribe+{forged}@{REPLY_DOMAIN}"))
    assert (await contact(services)).opted_out_at is None
    assert [message.kind for message in await outbox(services)] == ["question"]  # nothing queued in reply
    assert await inbound_outcomes(services) == [Outcome.UNVERIFIED.value]


async def test_a_tokenless_stop_from_an_unknown_address_is_not_answered(services: Services, smtp: SmtpServer) -> None:
    channel, _ = await emailed(services, smtp)
    await handle_mail(services, channel, tokenless("STOP", sender=STRANGER))
    assert [message.kind for message in await outbox(services)] == ["question"]  # no spam reflector
    assert await inbound_outcomes(services) == [Outcome.UNVERIFIED_STOP.value]


async def test_a_tokenless_stop_gets_one_reply_a_day_whose_link_unsubscribes(
    database_url: str, clock: ManualClock
) -> None:
    async with open_world(database_url, clock, smtp=True, rate_email_per_minute=60_000) as world:
        services = world.services
        channel = services.channels["email"]
        assert isinstance(channel, EmailChannel)
        await _launch_to_one(services)
        sent = len(world.smtp.messages)

        async def stop_mails(count: int) -> list[bytes]:
            for _ in range(count):
                await handle_mail(services, channel, tokenless("STOP", to=f"odpowiedzi@{providers.REPLY_DOMAIN}"))
            await services.dispatcher.drain()
            nonlocal sent
            new, sent = world.smtp.messages[sent:], len(world.smtp.messages)
            assert all(mail.rcpt_tos == (MAIL,) for mail in new)
            return [mail.content for mail in new]

        assert len(await stop_mails(3)) == 1  # one reply a day, however many forged STOPs come
        assert (await contact(services)).opted_out_at is None
        clock.advance(days=1)
        [reply] = await stop_mails(1)
        link = unsubscribe_link(reply)
        clicked = await world.client.post(link, data={"List-Unsubscribe": "One-Click"})
        assert clicked.status == 200
        assert (await contact(services)).opted_out_at == clock()
        assert len(await stop_mails(0)) == 1  # the confirmation that STOP sends
        clock.advance(days=1)
        assert await stop_mails(1) == []  # opted out: nothing more to offer
        assert await inbound_outcomes(services) == [
            Outcome.UNVERIFIED_STOP_LINK.value,
            Outcome.UNVERIFIED_STOP.value,
            Outcome.UNVERIFIED_STOP.value,
            Outcome.UNVERIFIED_STOP_LINK.value,
            Outcome.STOPPED.value,  # the click
            Outcome.UNVERIFIED_STOP.value,
        ]


async def _launch_to_one(services: Services) -> None:
    await add_resident(services, email=MAIL)
    await launch(services, CAMPAIGN)
    assert await services.dispatcher.drain() == 1


def unsubscribe_link(raw: bytes) -> str:
    """The path of the one-click link in a mail's List-Unsubscribe header."""
    found = re.search(
        r"<https?://[^/>]+(/unsubscribe/[a-z2-7]{32})>", str(email.message_from_bytes(raw)["List-Unsubscribe"])
    )
    assert found is not None
    return found.group(1)


PASS = f"{OUR_SERVER}; dmarc=pass header.from=example.org"


@pytest.mark.parametrize(
    ("label", "results", "answered"),
    [
        ("our server: DMARC pass", (PASS,), True),
        ("another server's pass", (PASS.replace(OUR_SERVER, "mx.forger.example"),), False),
        ("our server: DMARC fail", (PASS.replace("pass", "fail"),), False),
        ("a pass for another domain", (PASS.replace("example.org", "forger.example"),), False),
        ("a forged pass under our fail", (PASS.replace("pass", "fail"), PASS), False),
        ("no Authentication-Results", (), False),
    ],
)
async def test_a_tokenless_answer_counts_only_with_our_servers_dmarc_pass_table(
    services: Services, smtp: SmtpServer, label: str, results: tuple[str, ...], answered: bool
) -> None:
    channel, _ = await emailed(services, smtp)
    await handle_mail(services, channel, tokenless("Tak", results=results))
    assert (await responses(services) == [("uses_tram", "yes")]) is answered, label
    expected = Outcome.ANSWERED if answered else Outcome.UNVERIFIED
    assert await inbound_outcomes(services) == [expected.value], label


async def test_dmarc_is_off_without_an_authserv_id(database_url: str, clock: ManualClock, smtp: SmtpServer) -> None:
    services = bootstrap(email_settings(database_url, smtp, REPLY_DOMAIN), clock=clock)
    try:
        channel, _ = await emailed(services, smtp)
        await handle_mail(services, channel, tokenless("Tak", results=(PASS,)))
        assert await responses(services) == []
    finally:
        await services.close()
