"""Erasing one resident, in the caller's transaction (outreach.rights.requests runs it in one).

What identifies them goes: their addresses with their consent history, their resident row and its
attributes, the messages they sent (raw payloads, kept mail bodies), the texts and provider ids of
the messages sent to them, the early delivery reports of those sends. Their answers stay,
anonymised: each campaign's answers move to a stand-in resident of their own (`erased_at` set, no
address) under a fresh random respondent id, with the language, the attributes results split by
(those allowed out) and the inclusion probability the weights need, so results do not change and no
remaining row joins one campaign's answers to another's. The stand-in keeps the campaign's
conversation (it was asked), sample draw and launch skip, and the message rows with their status and
cost but no text, so a campaign's figures stay as they were.

Each campaign's old respondent id is left in `erasure_notices`, the tombstones API consumers read,
and told to webhook subscribers as a `respondent.erased` event written here; the webhook events about
the resident's answers and conversations go, delivered or not (storage.webhook_events).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.address_keys import address_keys
from storage.pseudonyms import new_pseudonym
from storage.suppression import suppress
from storage.tables import (
    ConsentRecord,
    ContactAddress,
    Conversation,
    EarlyDeliveryReport,
    ErasureNotice,
    InboundEvent,
    LaunchSkip,
    OutboxMessage,
    Resident,
    Response,
    SampledResident,
)
from storage.webhook_events import RESPONDENT_ERASED, forget_respondent_events, record_event

# A conversation still open when its resident is erased ends: nobody is left to ask.
OPEN_STATUSES = ("waiting", "active")
# An unsent message to an erased resident never goes.
UNSENT_STATUSES = ("queued", "held", "sending")
ERASED_ADDRESS_PREFIX = "erased:"


@dataclass
class Erased:
    """What one erasure did, in counts (never the data)."""

    addresses: int = 0
    campaigns: int = 0
    answers: int = 0
    messages_received: int = 0
    messages_sent: int = 0
    suppressed: int = 0
    webhook_events: int = 0  # events about their answers and conversations, deleted with their deliveries
    respondents: dict[int, str] = field(default_factory=dict)  # campaign id → the old respondent id


def fresh_respondent() -> str:
    """A random respondent id, shaped as the HMAC ones are ("p" and 20 hex digits)."""
    return "p" + secrets.token_hex(10)


def kept_attributes(attributes: Mapping[str, Any], kept: Collection[str]) -> dict[str, Any]:
    """The attributes an anonymised answer keeps: only the `kept` ones (what may leave the service
    anyway, the strata results split by), never a name or a street an import brought."""
    return {name: value for name, value in attributes.items() if name in kept}


async def erase_resident(
    session: AsyncSession,
    resident_id: int,
    *,
    now: datetime,
    kept: Collection[str],
    scrub: Callable[[str], str],
    suppression_digest: Callable[[str, str], str],
) -> Erased:
    """Erase the resident (see the module). `kept`: the attribute names anonymised answers keep;
    `scrub`: what a free-text answer keeps (phones, e-mails, PESEL masked);
    `suppression_digest(channel, address)`: the keyed hash an opted-out address is suppressed by."""
    resident = await session.get_one(Resident, resident_id, with_for_update=True)
    # The stand-ins and tombstones carry the day only: an exact time would set one erasure's rows apart.
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    done = Erased()
    contacts = list(
        (await session.execute(select(ContactAddress).where(col(ContactAddress.resident_id) == resident_id))).scalars()
    )
    contact_ids = [contact.id for contact in contacts]
    channel_of = {contact.id: contact.channel for contact in contacts}
    stand_ins = _StandIns(session, resident, now=day, kept=kept, channel_of=channel_of)

    answers = await session.execute(
        select(col(Response.id), col(Response.campaign_id)).where(col(Response.resident_id) == resident_id)
    )
    conversations = await session.execute(
        select(col(Conversation.id), col(Conversation.campaign_id)).where(col(Conversation.resident_id) == resident_id)
    )
    answered, asked = answers.all(), conversations.all()
    done.webhook_events = await forget_respondent_events(
        session,
        campaign_ids={campaign_id for _, campaign_id in [*answered, *asked]},
        response_ids={row_id for row_id, _ in answered if row_id is not None},
        conversation_ids={row_id for row_id, _ in asked if row_id is not None},
    )

    for conversation in (
        await session.execute(select(Conversation).where(col(Conversation.resident_id) == resident_id))
    ).scalars():
        done.respondents[conversation.campaign_id] = conversation.respondent
        stand_in = await stand_ins.for_campaign(conversation.campaign_id, conversation.contact_id)
        conversation.resident_id, conversation.contact_id = stand_in.resident_id, await stand_in.contact()
        conversation.respondent = stand_in.respondent
        if conversation.status in OPEN_STATUSES:
            conversation.status, conversation.next_reminder_at, conversation.expires_at = "closed", None, None
        conversation.updated_at = day
        session.add(conversation)

    for response in (await session.execute(select(Response).where(col(Response.resident_id) == resident_id))).scalars():
        done.respondents.setdefault(response.campaign_id, response.respondent)
        stand_in = await stand_ins.for_campaign(response.campaign_id, None)
        response.resident_id, response.respondent = stand_in.resident_id, stand_in.respondent
        response.inbound_event_id = None
        response.attributes = kept_attributes(response.attributes, kept)
        response.value = _scrubbed(response.value, scrub)
        session.add(response)
        done.answers += 1

    for table in (SampledResident, LaunchSkip):
        rows = await session.execute(
            select(col(table.id), col(table.campaign_id)).where(col(table.resident_id) == resident_id)
        )
        for row_id, campaign_id in rows.all():
            stand_in = await stand_ins.for_campaign(campaign_id, None)
            await session.execute(update(table).where(col(table.id) == row_id).values(resident_id=stand_in.resident_id))

    done.messages_sent = await _outbox(session, resident_id, stand_ins)
    if contact_ids:
        deleted = await session.execute(delete(InboundEvent).where(col(InboundEvent.contact_id).in_(contact_ids)))
        done.messages_received = int(deleted.rowcount)  # type: ignore[attr-defined]
        # The consent history goes with the addresses: an opt-out that must outlive them is suppressed below.
        await session.execute(delete(ConsentRecord).where(col(ConsentRecord.contact_id).in_(contact_ids)))

    keys = address_keys(session)
    opted_out = [
        suppression_digest(c.channel, keys.open(c.channel, c.address_sealed))
        for c in contacts
        if c.opted_out_at is not None
    ]
    await suppress(session, opted_out, now=day)
    done.suppressed = len(opted_out)
    notices = [
        ErasureNotice(campaign_id=campaign_id, respondent=respondent, erased_at=day)
        for campaign_id, respondent in sorted(done.respondents.items())
    ]
    session.add_all(notices)
    await session.flush()
    for notice in notices:
        # The exact time: a subscriber made earlier today wants it (fan-out compares the times); the
        # payload tells the day only.
        facts = {"notice_id": notice.id}
        await record_event(session, RESPONDENT_ERASED, campaign_id=notice.campaign_id, facts=facts, now=now)
    await session.execute(delete(ContactAddress).where(col(ContactAddress.resident_id) == resident_id))
    await session.execute(delete(Resident).where(col(Resident.id) == resident_id))
    done.addresses, done.campaigns = len(contacts), stand_ins.count
    return done


async def _outbox(session: AsyncSession, resident_id: int, stand_ins: _StandIns) -> int:
    """The resident's messages: a campaign's keep their status and cost under the stand-in, without
    text or provider id (unsent ones are cancelled); the service's own (STOP confirmations, HELP) go.
    Early delivery reports for any of them go too."""
    rows = (
        await session.execute(
            select(
                col(OutboxMessage.id),
                col(OutboxMessage.campaign_id),
                col(OutboxMessage.contact_id),
                col(OutboxMessage.channel),
                col(OutboxMessage.provider_id),
                col(OutboxMessage.status),
            ).where(col(OutboxMessage.resident_id) == resident_id)
        )
    ).all()
    reported = [(channel, provider_id) for _, _, _, channel, provider_id, _ in rows if provider_id is not None]
    if reported:
        await session.execute(
            delete(EarlyDeliveryReport).where(
                tuple_(col(EarlyDeliveryReport.channel), col(EarlyDeliveryReport.provider_id)).in_(reported)
            )
        )
    for message_id, campaign_id, contact_id, _, _, status in rows:
        if campaign_id is None:
            await session.execute(delete(OutboxMessage).where(col(OutboxMessage.id) == message_id))
            continue
        stand_in = await stand_ins.for_campaign(campaign_id, contact_id)
        await session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == message_id)
            .values(
                resident_id=stand_in.resident_id,
                contact_id=await stand_in.contact(),
                idempotency_key=ERASED_ADDRESS_PREFIX + secrets.token_hex(16),
                text="",
                choices=[],
                submit_label=None,
                template=None,
                provider_id=None,
                error_detail=None,
                status="cancelled" if status in UNSENT_STATUSES else status,
                claimed_by=None,
            )
        )
    return len(rows)


def _scrubbed(value: Any, scrub: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list):
        return [_scrubbed(item, scrub) for item in value]
    return value


@dataclass
class _StandIn:
    session: AsyncSession
    resident_id: int
    respondent: str
    channel: str | None
    now: datetime
    contact_id: int | None = None

    async def contact(self) -> int:
        """The stand-in's address row: a random placeholder, opted out and unreachable, so the rows
        that must name an address (conversation, messages) keep the channel and reach nobody."""
        if self.contact_id is None:
            channel = self.channel or "sms"
            keys, placeholder_address = address_keys(self.session), ERASED_ADDRESS_PREFIX + secrets.token_hex(16)
            placeholder = ContactAddress(
                resident_id=self.resident_id,
                channel=channel,
                address_index=keys.index(channel, placeholder_address),
                address_sealed=keys.seal(channel, placeholder_address),
                opted_out_at=self.now,
                unreachable_at=self.now,
                created_at=self.now,
            )
            self.session.add(placeholder)
            await self.session.flush()
            assert placeholder.id is not None
            self.contact_id = placeholder.id
        return self.contact_id


class _StandIns:
    """One stand-in resident per campaign the erased resident was in, made when first needed."""

    def __init__(
        self,
        session: AsyncSession,
        resident: Resident,
        *,
        now: datetime,
        kept: Collection[str],
        channel_of: Mapping[int | None, str],
    ) -> None:
        self._session, self._resident, self._now = session, resident, now
        self._kept, self._channel_of = kept, channel_of
        self._by_campaign: dict[int, _StandIn] = {}

    @property
    def count(self) -> int:
        return len(self._by_campaign)

    async def for_campaign(self, campaign_id: int, contact_id: int | None) -> _StandIn:
        stand_in = self._by_campaign.get(campaign_id)
        if stand_in is None:
            row = Resident(
                pseudonym=new_pseudonym(),
                language=self._resident.language,
                attributes=kept_attributes(self._resident.attributes, self._kept),
                created_at=self._now,
                updated_at=self._now,
                erased_at=self._now,
            )
            self._session.add(row)
            await self._session.flush()
            assert row.id is not None
            stand_in = _StandIn(self._session, row.id, fresh_respondent(), None, self._now)
            self._by_campaign[campaign_id] = stand_in
        if stand_in.channel is None and contact_id is not None:
            stand_in.channel = self._channel_of.get(contact_id)
        return stand_in
