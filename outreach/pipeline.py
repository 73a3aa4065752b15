"""The inbound pipeline: dedupe, keywords, flow engine, one transaction.

Each inbound message is handled in a single transaction: the event row (unique per provider id), the
answer, the conversation state and the next outbox row commit together. A webhook acknowledges the
provider only after `handle` returned, so a crash before commit means the provider retries.
"""

from __future__ import annotations

import logging
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import Inbound
from flows.engine import FlowState, resume
from flows.model import Campaign
from outreach import replies
from outreach.clock import Clock
from outreach.conversations import ConversationContext, apply_effects
from outreach.keywords import Keyword, KeywordMatch, detect_keyword
from storage.campaigns import CampaignRepository, ConversationRepository
from storage.db import SessionFactory
from storage.inbound import InboundRepository
from storage.outbox import NewMessage, OutboxRepository
from storage.residents import ResidentRepository
from storage.tables import ContactAddress, InboundEvent, Resident

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    DUPLICATE = "duplicate"
    UNKNOWN_SENDER = "unknown_sender"
    STOPPED = "stopped"
    STARTED = "started"
    HELP = "help"
    LANGUAGE = "language"
    OPTED_OUT = "ignored_opted_out"
    NO_CONVERSATION = "no_conversation"
    CAMPAIGN_NOT_ACTIVE = "campaign_not_active"
    ANSWERED = "answered"


class InboundPipeline:
    def __init__(self, sessions: SessionFactory, *, organisation: str, clock: Clock) -> None:
        self._sessions = sessions
        self._organisation = organisation
        self._clock = clock
        self._flows: dict[int, Campaign] = {}  # campaign definitions never change once created

    async def handle(self, inbound: Inbound) -> Outcome:
        async with self._sessions() as session, session.begin():
            outcome = await self._handle_in_transaction(session, inbound)
        # Pseudonymous facts only: never the address nor the text.
        log.info("inbound %s/%s: %s", inbound.channel, inbound.provider_id, outcome.value)
        return outcome

    async def _handle_in_transaction(self, session: AsyncSession, inbound: Inbound) -> Outcome:
        residents = ResidentRepository(session)
        contact = await residents.contact_by_address(inbound.channel, inbound.address)
        event_id = await InboundRepository(session).record_new(
            InboundEvent(
                channel=inbound.channel,
                provider_id=inbound.provider_id,
                contact_id=contact.id if contact else None,
                text=inbound.text,
                outcome="received",
                received_at=inbound.received_at,
            )
        )
        if event_id is None:
            return Outcome.DUPLICATE
        if contact is None:
            # Never answer numbers that are not residents': no reply, only the record.
            outcome = Outcome.UNKNOWN_SENDER
        else:
            resident = await residents.get(contact.resident_id)
            keyword = detect_keyword(inbound.text)
            if keyword is not None:
                outcome = await self._keyword(session, keyword, resident, contact, event_id)
            elif contact.opted_out_at is not None:
                outcome = Outcome.OPTED_OUT
            else:
                outcome = await self._answer(session, inbound, resident, contact, event_id)
        await InboundRepository(session).set_outcome(event_id, outcome.value)
        return outcome

    async def _keyword(
        self,
        session: AsyncSession,
        match: KeywordMatch,
        resident: Resident,
        contact: ContactAddress,
        event_id: int,
    ) -> Outcome:
        now = self._clock()
        assert resident.id is not None and contact.id is not None
        residents = ResidentRepository(session)
        if match.keyword is Keyword.STOP:
            if contact.opted_out_at is not None:
                return Outcome.OPTED_OUT  # one confirmation, then nothing
            await residents.opt_out_everywhere(resident.id, now=now)
            await ConversationRepository(session).stop_all_for_resident(resident.id, now=now)
            await OutboxRepository(session).cancel_queued_for_resident(resident.id)
            await self._reply(session, resident, contact, event_id, replies.stopped(resident.language))
            return Outcome.STOPPED
        if match.keyword is Keyword.START:
            await residents.opt_in_contact(contact.id)
            await self._reply(session, resident, contact, event_id, replies.started(resident.language))
            return Outcome.STARTED
        if contact.opted_out_at is not None:
            return Outcome.OPTED_OUT
        if match.keyword is Keyword.HELP:
            text = replies.help_text(resident.language, self._organisation)
            await self._reply(session, resident, contact, event_id, text)
            return Outcome.HELP
        assert match.language is not None
        resident.language = match.language
        resident.updated_at = now
        session.add(resident)
        await self._reply(session, resident, contact, event_id, replies.language_set(match.language))
        return Outcome.LANGUAGE

    async def _reply(
        self, session: AsyncSession, resident: Resident, contact: ContactAddress, event_id: int, text: str
    ) -> None:
        assert resident.id is not None and contact.id is not None
        await OutboxRepository(session).enqueue(
            NewMessage(
                idempotency_key=f"reply:{event_id}",
                resident_id=resident.id,
                contact_id=contact.id,
                kind="system",
                text=text,
            ),
            now=self._clock(),
        )

    async def _answer(
        self,
        session: AsyncSession,
        inbound: Inbound,
        resident: Resident,
        contact: ContactAddress,
        event_id: int,
    ) -> Outcome:
        assert contact.id is not None and resident.id is not None
        conversations = ConversationRepository(session)
        conversation = await conversations.active_for_contact(contact.id)
        if conversation is None:
            return Outcome.NO_CONVERSATION
        record = await CampaignRepository(session).get(conversation.campaign_id)
        if record.status != "active":
            return Outcome.CAMPAIGN_NOT_ACTIVE
        assert record.id is not None
        flow = self._flow(record.id, record.definition)
        now = self._clock()
        step = resume(flow, FlowState.model_validate(conversation.state), inbound.text, now)
        context = ConversationContext(
            campaign_id=record.id,
            resident_id=resident.id,
            respondent=resident.pseudonym,
            contact_id=contact.id,
            channel=inbound.channel,
        )
        completed = await apply_effects(session, context, step.effects, inbound_event_id=event_id, now=now)
        await conversations.save_state(
            conversation,
            state=step.state.model_dump(mode="json"),
            status="completed" if completed else "active",
            now=now,
        )
        return Outcome.ANSWERED

    def _flow(self, campaign_id: int, definition: dict[str, object]) -> Campaign:
        flow = self._flows.get(campaign_id)
        if flow is None:
            flow = self._flows[campaign_id] = Campaign.model_validate(definition)
        return flow
