"""Inbound events: every message a resident sent, stored once per provider id; and who sent it.

The statements are built once (storage.statements): the inbound path runs them for every reply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, Table, bindparam, exists, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.address_keys import address_keys
from storage.dialect import insert_for
from storage.statements import bound, per_dialect, run
from storage.tables import CampaignRecord, ContactAddress, Conversation, InboundEvent, Resident
from storage.webhook_events import RESPONSE_CREATED, wanted_by

Q = TypeVar("Q", bound="Select[*tuple[Any, ...]]")  # a query over contact_addresses
EVENTS: Table = InboundEvent.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Sender:
    """Who wrote from an address: its contact row and resident, and the conversation open on that
    address with its campaign (None when there is none), read in one query."""

    contact: ContactAddress
    resident: Resident
    conversation: Conversation | None
    campaign: CampaignRecord | None
    # A webhook subscriber takes this campaign's new answers: else an answer writes no event, and its
    # INSERT … SELECT (storage.webhook_events) need not run to find that out.
    answers_wanted: bool = True


def _by_address(query: Q) -> Q:
    return query.where(col(ContactAddress.channel) == bindparam("channel")).where(
        col(ContactAddress.address_index) == bindparam("address_index")
    )


# The address's open conversation: the oldest active one (one address is in one conversation at a time).
_OPEN_ON_ADDRESS = (
    select(col(Conversation.id))
    .where(col(Conversation.contact_id) == col(ContactAddress.id))
    .where(col(Conversation.status) == "active")
    .order_by(col(Conversation.started_at))
    .limit(1)
    .correlate(ContactAddress)
    .scalar_subquery()
)
# Locked until the transaction ends (PostgreSQL; SQLite's writers are serialised already), as replies
# from one address must advance its conversation one after the other.
_ANSWERS_WANTED = exists(select(literal(1)).where(wanted_by(RESPONSE_CREATED, col(Conversation.campaign_id))))
_SENDER_IN_CONVERSATION = _by_address(
    select(ContactAddress, Resident, Conversation, CampaignRecord, _ANSWERS_WANTED.label("answers_wanted"))
    .join(Resident, col(Resident.id) == col(ContactAddress.resident_id))
    .join(Conversation, col(Conversation.id) == _OPEN_ON_ADDRESS)
    .join(CampaignRecord, col(CampaignRecord.id) == col(Conversation.campaign_id))
).with_for_update(of=Conversation)
_SENDER = _by_address(
    select(ContactAddress, Resident).join(Resident, col(Resident.id) == col(ContactAddress.resident_id))
)


@per_dialect
def _record_new(dialect: str) -> Any:
    names = ("channel", "provider_id", "contact_id", "text", "full_text", "outcome", "reason", "received_at")
    return (
        insert_for(dialect, EVENTS)
        .values({name: bound(EVENTS, name) for name in names})
        .on_conflict_do_nothing(index_elements=["channel", "provider_id"])
        .returning(EVENTS.c.id)
    )


_SET_OUTCOME = update(EVENTS).where(EVENTS.c.id == bindparam("event_id")).values(outcome=bindparam("outcome"))


class InboundRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def sender(self, channel: str, address: str) -> Sender | None:
        """The resident who owns this address, with its open conversation (locked); None for a stranger."""
        where = {"channel": channel, "address_index": address_keys(self._session).index(channel, address)}
        talking = (await self._session.execute(_SENDER_IN_CONVERSATION, where)).first()
        if talking is not None:
            contact, resident, conversation, campaign, answers_wanted = talking
            return Sender(contact, resident, conversation, campaign, bool(answers_wanted))
        known = (await self._session.execute(_SENDER, where)).first()
        return None if known is None else Sender(known[0], known[1], None, None)

    async def record_new(self, event: InboundEvent) -> int | None:
        """Insert the event; None when the provider already delivered it (a retry or a duplicate)."""
        keys = address_keys(self._session)  # what a resident wrote is kept encrypted
        result = await run(
            self._session,
            _record_new(self._session),
            {
                "channel": event.channel,
                "provider_id": event.provider_id,
                "contact_id": event.contact_id,
                "text": keys.seal_message(event.channel, "text", event.text),
                "full_text": keys.seal_message(event.channel, "full_text", event.full_text),
                "outcome": event.outcome,
                "reason": event.reason,
                "received_at": event.received_at,
            },
        )
        inserted: int | None = result.scalar_one_or_none()
        return inserted

    async def set_outcome(self, event_id: int, outcome: str) -> None:
        await run(self._session, _SET_OUTCOME, {"event_id": event_id, "outcome": outcome})
