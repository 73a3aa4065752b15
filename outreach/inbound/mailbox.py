"""Email replies: the IMAP poller's position kept in the database, and each mail handed to the
pipeline (answers) or to delivery status (bounces). Only a token the service issued says whose mail it
is (whichever alias the resident wrote from): the From header is anyone's to write, so a mail without
one goes to `unverified_mail`, unless our receiving server vouches for its From (DMARC, when set)."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import hashlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from channels.base import Inbound
from channels.email import EMAIL, EmailChannel
from channels.imap_poller import ImapPoller
from outreach.addresses import canonical_address
from outreach.inbound.failures import handle_or_keep_failed
from outreach.inbound.leader import run_as_singleton
from outreach.inbound.pipeline import Outcome
from outreach.inbound.services import InboundServices
from outreach.inbound.unverified_mail import record_unverified_mail
from outreach.outbound.delivery_status import record_delivery_status
from storage.keys import read_key, write_key
from storage.outbox import OutboxRepository
from storage.tables import PROVIDER_ID_LENGTH

log = logging.getLogger(__name__)


class DatabasePosition:
    """The poller's (UIDVALIDITY, last UID) in the database, so a restart goes on where it stopped."""

    def __init__(self, services: InboundServices, mailbox: str) -> None:
        self._services = services
        self._name = f"imap:{mailbox}"[:40]

    async def load(self) -> tuple[int, int] | None:
        async with self._services.sessions() as session:
            value = await read_key(session, self._name)
        if value is None:
            return None
        validity, _, uid = value.partition(":")
        return int(validity), int(uid)

    async def save(self, uidvalidity: int, last_uid: int) -> None:
        async with self._services.sessions() as session, session.begin():
            await write_key(session, self._name, f"{uidvalidity}:{last_uid}", now=self._services.clock())


def fits(provider_id: str) -> bool:
    """Whether a Message-ID fits the provider id columns (in bytes: also a PostgreSQL index entry)."""
    return len(provider_id.encode("utf-8")) <= PROVIDER_ID_LENGTH


async def handle_mail(services: InboundServices, channel: EmailChannel, raw: bytes) -> None:
    """One mail: an answer goes through the pipeline (deduped by Message-ID), a bounce becomes a
    delivery status, an auto-reply is dropped. Returns normally for mail it cannot use.

    Anyone can write to the mailbox, and a Message-ID longer than a header line (no standard mail has
    one) would not fit the store: an answer is then known by the id's digest (still deduped), and a
    bounce naming one is about no message of ours (ours fit), so it is dropped."""
    event = channel.read(raw, now=services.clock())
    if event.status is not None and fits(event.status.provider_id):
        await record_delivery_status(services.sessions, event.status, clock=services.clock)
    inbound = event.inbound
    if inbound is None:
        return
    inbound = dataclasses.replace(inbound, address=canonical_address(inbound.channel, inbound.address))
    if not fits(inbound.provider_id):
        digest = hashlib.sha256(inbound.provider_id.encode("utf-8")).hexdigest()
        inbound = dataclasses.replace(inbound, provider_id=f"sha256:{digest}")
    if event.parsed is not None:  # the reply we read is cut from the mail; the whole body is kept
        inbound = dataclasses.replace(inbound, full_text=event.parsed.body)
    # A mail the store refuses (a NUL in its text on PostgreSQL) is kept as failed and the poller goes
    # past it; an outage is raised, and the poller tries the mail again at its next poll.
    issued_to = await _address_of_token(services, channel, event.parsed.token if event.parsed else None)
    if issued_to is not None:  # the resident may write from an alias: the token says who it is
        await handle_or_keep_failed(services, dataclasses.replace(inbound, address=issued_to))
    elif event.sender_authenticated:  # our own server checked the From domain (DMARC pass)
        await handle_or_keep_failed(services, inbound)
    else:
        await handle_or_keep_failed(services, inbound, functools.partial(_keep_unverified, services))


async def _keep_unverified(services: InboundServices, inbound: Inbound) -> Outcome:
    return await record_unverified_mail(services.sessions, inbound, clock=services.clock)


async def _address_of_token(services: InboundServices, channel: EmailChannel, token: str | None) -> str | None:
    """The address the mail carrying `token` was sent to; None for no token, or one we never sent."""
    if not token:
        return None
    async with services.sessions() as session:
        sent = await OutboxRepository(session).sent_message(EMAIL, channel.message_id(token))
    return sent[2] if sent is not None else None


def mailbox_poller(services: InboundServices, channel: EmailChannel) -> ImapPoller:
    settings = services.settings
    assert settings.imap_host and settings.imap_user and settings.imap_password

    async def handle(raw: bytes, uid: int) -> None:
        await handle_mail(services, channel, raw)

    return ImapPoller(
        host=settings.imap_host,
        port=settings.imap_port,
        user=settings.imap_user,
        password=settings.imap_password.get_secret_value(),
        position=DatabasePosition(services, settings.imap_mailbox),
        handle=handle,
        mailbox=settings.imap_mailbox,
        tls=settings.imap_tls,
    )


@asynccontextmanager
async def polling_mailbox(services: InboundServices) -> AsyncIterator[None]:
    """Poll the replies mailbox beside the web app, when email and IMAP are configured."""
    channel = services.channels.get("email")
    if not isinstance(channel, EmailChannel) or not services.settings.imap_enabled:
        yield
        return
    stop = asyncio.Event()
    poller = mailbox_poller(services, channel)

    async def poll_until(job_stop: asyncio.Event) -> None:
        await poller.run(services.settings.imap_poll_seconds, job_stop)

    task = asyncio.create_task(
        run_as_singleton("imap-poller", poll_until, sessions=services.sessions, clock=services.clock, stopping=stop)
    )
    try:
        yield
    finally:
        stop.set()
        await task
