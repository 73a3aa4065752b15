"""Sends of unknown outcome in the outbox (issue 18): read for reconciliation, and settled as it
decides: confirmed sent, queued again (never seen, or resent by the campaign's on_unknown), given up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage import sms_spend
from storage.address_keys import address_keys
from storage.claimed_messages import ClaimedMessage, claimed_from_row
from storage.tables import ContactAddress, OutboxMessage


@dataclass(frozen=True)
class UnknownSend:
    """A send whose outcome was lost, to reconcile: the message and when its send started."""

    message: ClaimedMessage
    started_at: datetime


UNKNOWN_OUTCOMES = ("confirmed", "not_seen", "resent", "given_up")  # what reconciliation made of one


class UnknownSendRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def unknown_to_reconcile(self, *, limit: int) -> list[UnknownSend]:
        """Sends of unknown outcome not given up yet (a resent one that ended unknown again included),
        the oldest first."""
        rows = await self._session.execute(
            select(OutboxMessage, col(ContactAddress.channel), col(ContactAddress.address_sealed))
            .join(ContactAddress, col(ContactAddress.id) == col(OutboxMessage.contact_id))
            .where(col(OutboxMessage.status) == "unknown")
            .where(col(OutboxMessage.claimed_at).is_not(None))
            .where(col(OutboxMessage.unknown_outcome).is_(None) | (col(OutboxMessage.unknown_outcome) != "given_up"))
            .order_by(col(OutboxMessage.claimed_at), col(OutboxMessage.id))
            .limit(limit)
        )
        found = []
        keys = address_keys(self._session)  # reconciling asks the provider about the address
        for message, channel, sealed in rows.all():
            assert message.claimed_at is not None
            found.append(
                UnknownSend(claimed_from_row(message, channel, keys.open(channel, sealed)), message.claimed_at)
            )
        return found

    def _still_unknown(self, send: UnknownSend) -> Any:
        """The row as it was read: another worker may have reconciled it (and it may have been sent and
        lost again) meanwhile, and a stale decision must not apply to the newer send."""
        return (
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == send.message.id)
            .where(col(OutboxMessage.status) == "unknown")
            .where(col(OutboxMessage.claimed_at) == send.started_at)
        )

    async def confirm_unknown(self, send: UnknownSend, *, provider_id: str) -> bool:
        """The provider has it: sent (when it started; the provider's reports may follow)."""
        result: CursorResult[Any] = await self._session.execute(  # type: ignore[assignment]
            self._still_unknown(send).values(
                status="sent",
                provider_id=provider_id,
                sent_at=send.started_at,
                error_class=None,
                unknown_outcome="confirmed",
            )
        )
        return int(result.rowcount) == 1

    async def requeue_unknown(self, send: UnknownSend, *, now: datetime, outcome: str) -> bool:
        """Back to the queue: the provider surely never had it ("not_seen"), or the campaign's policy
        sends it again ("resent"); the attempt it took counts."""
        assert outcome in ("not_seen", "resent")
        if outcome == "not_seen":
            # It never left: its reservation goes back. The first UPDATE changes nothing but takes the
            # row as it was read (a reconciler beside this one waits, then finds it changed).
            still: CursorResult[Any] = await self._session.execute(  # type: ignore[assignment]
                self._still_unknown(send).values(status="unknown")
            )
            if int(still.rowcount) != 1:
                return False
            await sms_spend.give_back(self._session, send.message.id)
        result: CursorResult[Any] = await self._session.execute(  # type: ignore[assignment]
            # Resent: the first send's cost stays spent (it may have left); the resend reserves its own.
            self._still_unknown(send).values(
                status="queued", claimed_by=None, next_attempt_at=now, unknown_outcome=outcome, cost=None
            )
        )
        return int(result.rowcount) == 1

    async def give_up_unknown(self, send: UnknownSend) -> bool:
        """Left unknown for good: the campaign's policy would rather miss it than send it twice."""
        result: CursorResult[Any] = await self._session.execute(  # type: ignore[assignment]
            self._still_unknown(send).values(unknown_outcome="given_up")
        )
        return int(result.rowcount) == 1

    async def count_unknown_outcomes(self, campaign_id: int | None = None) -> dict[str, int]:
        """How many sends of unknown outcome reconciliation confirmed, found unseen, resent, gave up."""
        statement = (
            select(col(OutboxMessage.unknown_outcome), func.count())
            .where(col(OutboxMessage.unknown_outcome).is_not(None))
            .group_by(col(OutboxMessage.unknown_outcome))
        )
        if campaign_id is not None:
            statement = statement.where(col(OutboxMessage.campaign_id) == campaign_id)
        counts = {outcome: 0 for outcome in UNKNOWN_OUTCOMES}
        for outcome, count in (await self._session.execute(statement)).all():
            counts[str(outcome)] = int(count)
        return counts
