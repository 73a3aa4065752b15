"""One resident's data as the resident may ask for it: found by any of their addresses, and read
whole for an access request (addresses and their consent, attributes, campaigns asked, answers,
messages sent to them and received from them). Read only by outreach.rights; nothing here is logged."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.address_keys import address_keys
from storage.consent_ledger import ConsentLedger
from storage.tables import CampaignRecord, ContactAddress, Conversation, InboundEvent, OutboxMessage, Resident, Response


async def residents_with(session: AsyncSession, addresses: Iterable[tuple[str, str]]) -> list[int]:
    """The residents owning any of these (channel, address) pairs, each given in the form addresses
    are stored in (outreach.addresses.canonical_address): an exact match on the blind index."""
    keys = address_keys(session)
    conditions = [
        (col(ContactAddress.channel) == channel) & (col(ContactAddress.address_index) == keys.index(channel, address))
        for channel, address in addresses
    ]
    if not conditions:
        return []
    found = await session.execute(
        select(col(ContactAddress.resident_id))
        .where(or_(*conditions))
        .distinct()
        .order_by(col(ContactAddress.resident_id))
    )
    return list(found.scalars())


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def resident_record(session: AsyncSession, resident_id: int) -> dict[str, Any]:
    """Everything held about the resident, as JSON-ready data."""
    resident = await session.get_one(Resident, resident_id)
    contacts = list(
        (
            await session.execute(
                select(ContactAddress)
                .where(col(ContactAddress.resident_id) == resident_id)
                .order_by(col(ContactAddress.id))
            )
        ).scalars()
    )
    contact_ids = [contact.id for contact in contacts]
    slugs = dict((await session.execute(select(col(CampaignRecord.id), col(CampaignRecord.slug)))).all())
    conversations = (
        await session.execute(
            select(Conversation).where(col(Conversation.resident_id) == resident_id).order_by(col(Conversation.id))
        )
    ).scalars()
    answers = (
        await session.execute(
            select(Response).where(col(Response.resident_id) == resident_id).order_by(col(Response.id))
        )
    ).scalars()
    sent = (
        await session.execute(
            select(OutboxMessage).where(col(OutboxMessage.resident_id) == resident_id).order_by(col(OutboxMessage.id))
        )
    ).scalars()
    received = (
        await session.execute(
            select(InboundEvent).where(col(InboundEvent.contact_id).in_(contact_ids)).order_by(col(InboundEvent.id))
        )
    ).scalars()
    consent = await ConsentLedger(session).history(resident_id)
    return {
        "resident": resident.pseudonym,
        "language": resident.language,
        "attributes": resident.attributes,
        "registered_at": _time(resident.created_at),
        "updated_at": _time(resident.updated_at),
        "addresses": [
            {
                "channel": contact.channel,
                "address": address_keys(session).open(contact.channel, contact.address_sealed),
                "consent_source": contact.consent_source,
                "consent_at": _time(contact.consent_at),
                "opted_out_at": _time(contact.opted_out_at),
                "unreachable_at": _time(contact.unreachable_at),
                "last_message_at": _time(contact.last_inbound_at),
                "added_at": _time(contact.created_at),
            }
            for contact in contacts
        ],
        "consent_history": [
            {
                "channel": channel,
                "change": record.change,
                "source": record.source,
                "detail": record.detail,
                "said_on": record.channel,
                "notice": record.notice,
                "stated_at": _time(record.stated_at),
                "at": _time(record.at),
            }
            for record, channel in consent
        ],
        "campaigns": [
            {
                "campaign": slugs.get(conversation.campaign_id),
                "respondent": conversation.respondent,
                "status": conversation.status,
                "started_at": _time(conversation.started_at),
                "asked_at": _time(conversation.asked_at),
                "last_reply_at": _time(conversation.last_reply_at),
            }
            for conversation in conversations
        ],
        "answers": [
            {
                "campaign": slugs.get(answer.campaign_id),
                "question": answer.question_id,
                "value": answer.value,
                "channel": answer.channel,
                "answered_at": _time(answer.answered_at),
            }
            for answer in answers
        ],
        "messages_sent": [
            {
                "campaign": slugs.get(message.campaign_id) if message.campaign_id is not None else None,
                "channel": message.channel,
                "kind": message.kind,
                "text": message.text,
                "status": message.status,
                "delivery_status": message.delivery_status,
                "created_at": _time(message.created_at),
                "sent_at": _time(message.sent_at),
            }
            for message in sent
        ],
        "messages_received": [
            {
                "channel": event.channel,
                "text": address_keys(session).open_message(event.channel, "text", event.text),
                "full_text": address_keys(session).open_message(event.channel, "full_text", event.full_text),
                "outcome": event.outcome,
                "received_at": _time(event.received_at),
            }
            for event in received
        ],
    }
