"""Delivery reports from providers: the order statuses move in, whatever order they arrive in."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import DeliveryStatus
from outreach.clock import Clock
from storage.db import SessionFactory
from storage.outbox import OutboxRepository
from storage.residents import ResidentRepository

log = logging.getLogger(__name__)

# A status never moves backwards: "delivered" after "failed" (or a repeated "sent") changes nothing.
_RANK = {
    None: 0,
    "accepted": 1,
    "queued": 1,
    "scheduled": 1,
    "sending": 2,
    "sent": 3,
    "undelivered": 4,
    "failed": 4,
    "delivered": 5,
    "read": 6,
}
FAILED = ("undelivered", "failed")
# Codes that mean the address itself is dead or refuses us (Twilio 30003 unreachable, 30005 unknown,
# 30006 landline, 30004 blocked; a mail bounce 5.1.x: no such mailbox or domain): the address is not
# written to again.
DEAD_ADDRESS_CODES = {"30003", "30004", "30005", "30006"}


def dead_address(code: str | None) -> bool:
    return code is not None and (code in DEAD_ADDRESS_CODES or code.startswith("5.1."))


def status_rank(status: str | None) -> int:
    return _RANK.get(status, 0)


async def record_delivery_status(sessions: SessionFactory, report: DeliveryStatus, *, clock: Clock) -> bool:
    async with sessions() as session, session.begin():
        outbox = OutboxRepository(session)
        if await outbox.contact_of(report.provider_id) is None:
            # The callback beat our own record of the send: keep it for when the send is recorded.
            await outbox.keep_early_report(
                report.provider_id, status=report.status, error_code=report.error_code, now=clock(), rank=status_rank
            )
            return False
        changed = await apply_report(session, report.provider_id, report.status, report.error_code, clock=clock)
    log.info("delivery %s/%s: %s (%s)", report.channel, report.provider_id, report.status, report.error_code)
    return changed


async def apply_report(
    session: AsyncSession, provider_id: str, status: str, error_code: str | None, *, clock: Clock
) -> bool:
    outbox = OutboxRepository(session)
    changed = await outbox.record_delivery(provider_id, status=status, error_code=error_code, rank=status_rank)
    if changed and status in FAILED and dead_address(error_code):
        contact_id = await outbox.contact_of(provider_id)
        if contact_id is not None:
            await ResidentRepository(session).mark_unreachable(contact_id, now=clock())
    return changed


async def apply_early_report(session: AsyncSession, provider_id: str, *, clock: Clock) -> None:
    """Right after a send is recorded: a report that came first is applied now."""
    early = await OutboxRepository(session).take_early_report(provider_id)
    if early is not None:
        await apply_report(session, provider_id, early.status, early.error_code, clock=clock)
