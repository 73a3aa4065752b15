"""Delivery reports from providers: applied in the order of `channels.delivery_status.status_rank`,
whatever order they arrive in; a failure that names the address dead marks it unreachable, and a
delivery confirmed after that failure takes the mark back. A report names a message of its own
channel only (provider ids are unique only within a provider). One that beats our record of the send is
kept for it, per channel, at most `EARLY_REPORTS_PER_CHANNEL` of them and for `EARLY_REPORT_LIFETIME`."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import DeliveryStatus
from channels.delivery_status import FAILED, REACHED, status_rank
from outreach.clock import Clock
from storage.db import SessionFactory
from storage.early_reports import EarlyReportRepository
from storage.outbox import OutboxRepository
from storage.residents import ResidentRepository

log = logging.getLogger(__name__)

# Codes that mean the address itself is dead or refuses us (Twilio 30003 unreachable, 30005 unknown,
# 30006 landline, 30004 blocked; a mail bounce 5.1.x: no such mailbox or domain): the address is not
# written to again, unless the same message's delivery is confirmed after all (`apply_report`).
DEAD_ADDRESS_CODES = {"30003", "30004", "30005", "30006"}
# A provider's callback beats our commit of the send by milliseconds; an hour is room for a slow
# commit, and a report older than that is about no send of ours. The cap keeps a flood of reports
# for sends we never made (a bug, or anyone's invention) from growing the table.
EARLY_REPORT_LIFETIME = timedelta(hours=1)
EARLY_REPORTS_PER_CHANNEL = 1000


def dead_address(code: str | None) -> bool:
    return code is not None and (code in DEAD_ADDRESS_CODES or code.startswith("5.1."))


async def record_delivery_status(sessions: SessionFactory, report: DeliveryStatus, *, clock: Clock) -> bool:
    async with sessions() as session, session.begin():
        outbox = OutboxRepository(session)
        contact_id = await outbox.contact_of(report.channel, report.provider_id)
        if contact_id is None:
            # The callback beat our own record of the send: keep it for when the send is recorded.
            await EarlyReportRepository(session).keep(
                report.channel,
                report.provider_id,
                status=report.status,
                error_code=report.error_code,
                now=clock(),
                rank=status_rank,
                keep_for=EARLY_REPORT_LIFETIME,
                cap=EARLY_REPORTS_PER_CHANNEL,
            )
            return False
        changed = await apply_report(
            session, report.channel, report.provider_id, report.status, report.error_code, clock=clock
        )
    # The contact, not the provider id: an email's is its Message-ID, TOKEN@domain, and the token answers
    # and unsubscribes for the resident.
    log.info("delivery %s to contact %s: %s (%s)", report.channel, contact_id, report.status, report.error_code)
    return changed


async def apply_report(
    session: AsyncSession, channel: str, provider_id: str, status: str, error_code: str | None, *, clock: Clock
) -> bool:
    outbox = OutboxRepository(session)
    change = await outbox.record_delivery(channel, provider_id, status=status, error_code=error_code, rank=status_rank)
    if change is None:
        return False
    if status in FAILED and dead_address(error_code):
        await ResidentRepository(session).mark_unreachable(change.contact_id, now=clock())
    elif status in REACHED and change.previous_status in FAILED and dead_address(change.previous_error):
        # A confirmed delivery overrules this message's failure (see channels.delivery_status), and with
        # it the dead mark that failure made: the address works. Only a message whose own failure named
        # the address dead takes the mark back; a late receipt for any other message says nothing about it.
        await outbox.clear_unreachable(change.contact_id)
    return True


async def apply_early_report(session: AsyncSession, channel: str, provider_id: str, *, clock: Clock) -> None:
    """Right after a send is recorded: a report that came first (and not too long ago) is applied now."""
    early = await EarlyReportRepository(session).take(channel, provider_id, now=clock(), keep_for=EARLY_REPORT_LIFETIME)
    if early is not None:
        await apply_report(session, channel, provider_id, early.status, early.error_code, clock=clock)
