"""Mail that carries no token the service issued: anyone can write any From address, so such a mail
speaks for nobody. It is kept for audit (an inbound event linked to no resident, its text stored,
never logged) and changes no resident: no STOP, no START, no answer.

One exception keeps a real resident able to leave by writing STOP from a new mail: a tokenless STOP
from a known email address that is still subscribed gets one reply, through the outbox, to that
address; the reply, like every mail we send, carries the one-click unsubscribe link (and its own reply
token), so only whoever reads that mailbox can unsubscribe, and a forger achieves nothing. At most one
such reply per address per day (the outbox's idempotency key names the address and the day), so
nobody can flood a resident with them; an unknown address gets nothing (the service is no spam
reflector), nor does an address that has already left.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import Inbound
from outreach.clock import Clock
from outreach.inbound import service_texts
from outreach.inbound.keywords import Keyword, detect_keyword
from outreach.inbound.pipeline import Outcome
from storage.db import SessionFactory
from storage.inbound import InboundRepository
from storage.outbox import NewMessage, OutboxRepository
from storage.residents import ResidentRepository
from storage.tables import InboundEvent

log = logging.getLogger(__name__)


async def record_unverified_mail(sessions: SessionFactory, inbound: Inbound, *, clock: Clock) -> Outcome:
    """Keep a tokenless mail for audit; a STOP may get the one-click link (see the module)."""
    async with sessions() as session, session.begin():
        event_id = await InboundRepository(session).record_new(
            InboundEvent(
                channel=inbound.channel,
                provider_id=inbound.provider_id,
                contact_id=None,  # the From address is a claim: the event is nobody's
                text=inbound.text,
                full_text=inbound.full_text,
                outcome=Outcome.UNVERIFIED.value,
                received_at=clock(),
            )
        )
        if event_id is None:
            outcome = Outcome.DUPLICATE
        else:
            outcome = await _answer_a_stop(session, inbound, clock=clock) if _is_stop(inbound) else Outcome.UNVERIFIED
            await InboundRepository(session).set_outcome(event_id, outcome.value)
    # Our own row id only: never the address, the text, nor the provider id (the sender's Message-ID).
    log.info("inbound %s: %s (event %s)", inbound.channel, outcome.value, event_id)
    return outcome


def _is_stop(inbound: Inbound) -> bool:
    """A typed STOP. A mail to `unsubscribe+TOKEN@` whose token is nobody's is no request of anyone's."""
    if inbound.command is not None:
        return False
    match = detect_keyword(inbound.text)
    return match is not None and match.keyword is Keyword.STOP


async def _answer_a_stop(session: AsyncSession, inbound: Inbound, *, clock: Clock) -> Outcome:
    residents = ResidentRepository(session)
    contact = await residents.contact_by_address(inbound.channel, inbound.address)
    if contact is None or contact.id is None or contact.opted_out_at is not None:
        return Outcome.UNVERIFIED_STOP
    resident = await residents.get(contact.resident_id)
    assert resident.id is not None
    now = clock()
    queued = await OutboxRepository(session).enqueue(
        NewMessage(
            idempotency_key=f"stop-link:{contact.id}:{now.date().isoformat()}",  # one a day per address
            resident_id=resident.id,
            contact_id=contact.id,
            kind="system",
            text=service_texts.stop_by_link(resident.language),
        ),
        now=now,
    )
    return Outcome.UNVERIFIED_STOP_LINK if queued else Outcome.UNVERIFIED_STOP
