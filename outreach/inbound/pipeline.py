"""The inbound pipeline: dedupe, keywords, flow engine, one transaction.

Each inbound message is handled in a single transaction: the event row (unique per provider id), the
answer, the conversation state and the next outbox row commit together. A webhook acknowledges the
provider only after `handle` returned, so a crash before commit means the provider retries. On SQLite,
messages handled at the same time share a transaction and its commit (storage.group_commit): one
writer, one fsync for a burst, each answered after the commit that holds it.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import Inbound
from flows.engine import FlowState
from flows.languages import supported_or_default
from flows.texts import PrivacyNotice
from outreach import faults
from outreach.addresses import canonical_address
from outreach.campaigns.conversations import Delivery, activate_next_waiting, answer_timers, apply_effects
from outreach.campaigns.parsed_flows import CampaignDefinitions
from outreach.campaigns.recruitment import (
    ENROLMENT_ATTRIBUTE,
    ENROLMENT_STARTS,
    RECRUITMENT_SOURCE,
    VIA_SELF_ENROLMENT,
    recruitment,
)
from outreach.clock import Clock, stopped_clock
from outreach.inbound import enrolment, service_texts
from outreach.inbound.enrolment import Choices, District
from outreach.inbound.keywords import Keyword, KeywordMatch, said_by
from outreach.inbound.routes import Outcome as Outcome
from outreach.inbound.routes import Route, Way, route_of
from outreach.telemetry import NO_TELEMETRY, Telemetry
from storage import inbound_queue
from storage.campaigns import ConversationRepository
from storage.consent_ledger import Because, Source
from storage.db import SessionFactory
from storage.group_commit import GroupCommit
from storage.inbound import InboundRepository, Sender
from storage.outbox import NewMessage, OutboxRepository
from storage.residents import AddressInput, ResidentRepository
from storage.tables import ContactAddress, InboundEvent, Resident
from storage.webhook_events import CONVERSATION_COMPLETED, record_event

log = logging.getLogger(__name__)

# Replies one grouped commit handles at most when webhook messages wait to be stored (SQLite): their
# store waits for one group (a few ms), not for a burst's handling (outreach.inbound.queue).
REPLIES_PER_GROUP = 1


@dataclass(frozen=True)
class Handled:
    """What became of one inbound message, in the terms the log may carry: our row ids."""

    outcome: Outcome
    event_id: int | None  # None: a repeat of an event already stored
    contact_id: int | None  # None: from an address no resident has (yet)


class InboundPipeline:
    def __init__(
        self,
        sessions: SessionFactory,
        definitions: CampaignDefinitions,
        *,
        organisation: str,
        clock: Clock,
        spread: timedelta,
        districts: list[District] | None = None,
        age_bands: Sequence[str],
        telemetry: Telemetry = NO_TELEMETRY,
        group_commits: SessionFactory | None = None,
        write_turn: asyncio.Lock | None = None,
        privacy: PrivacyNotice | None = None,  # named in HELP: the controller and the notice page
    ) -> None:
        """`group_commits`: messages handled at once share one transaction of these sessions (SQLite:
        one writer anyway; serve gives sessions whose statements run in the loop, storage.sqlite_writer)."""
        self._privacy = privacy
        self._telemetry = telemetry
        self._grouped = (
            GroupCommit(group_commits, max_behind=REPLIES_PER_GROUP, turn=write_turn)
            if group_commits is not None
            else None
        )
        self._choices = Choices(districts or [], tuple(age_bands))  # what enrolment offers
        self._sessions = sessions
        self._definitions = definitions
        self._organisation = organisation
        self._clock = clock
        self._spread = spread

    @property
    def group_commit(self) -> GroupCommit | None:
        """The grouped commits replies share (SQLite), which other short writes may join; None on PostgreSQL."""
        return self._grouped

    @property
    def grouped_commits(self) -> int | None:
        """Commits of grouped replies so far (None: each reply commits alone, as on PostgreSQL)."""
        return None if self._grouped is None else self._grouped.commits

    def at(self, now: datetime) -> InboundPipeline:
        """This pipeline with its clock stopped at `now`: a message kept on disk through an outage
        (outreach.inbound.spool) is handled as of when it arrived, its answer and reply times too."""
        stopped = copy.copy(self)
        stopped._clock = stopped_clock(now)
        return stopped

    async def handle(self, inbound: Inbound, *, dequeue: int | None = None) -> Outcome:
        """`dequeue`: the message's row in the inbound queue (outreach.inbound.queue), deleted in the
        transaction that handles it."""
        # Found by the form addresses are stored in: an email in another case is the same resident.
        inbound = dataclasses.replace(inbound, address=canonical_address(inbound.channel, inbound.address))
        if self._grouped is not None:
            work = functools.partial(self._handle_before_commit, inbound=inbound, dequeue=dequeue)
            handled = await self._grouped.run(work)
        else:
            async with self._sessions() as session, session.begin():
                handled = await self._handle_before_commit(session, inbound, dequeue=dequeue)
        # Our own row ids only: never the address, the text, nor the provider id (an email link's is
        # `link:TOKEN:key`, and whoever holds the token can answer or unsubscribe for the resident).
        log.info(
            "inbound %s: %s (event %s, contact %s)",
            inbound.channel,
            handled.outcome.value,
            handled.event_id,
            handled.contact_id,
        )
        self._telemetry.inbound_handled(inbound.channel, handled.outcome.value)
        return handled.outcome

    async def _handle_before_commit(self, session: AsyncSession, inbound: Inbound, dequeue: int | None) -> Handled:
        """The reply handled in `session`, whose commit (its own, or its group's) comes next."""
        handled = await self._handle_in_transaction(session, inbound)
        if dequeue is not None:
            await inbound_queue.remove(session, dequeue)
        faults.reached("before_commit.reply")  # test only (outreach.faults)
        return handled

    async def _handle_in_transaction(self, session: AsyncSession, inbound: Inbound) -> Handled:
        events = InboundRepository(session)
        # Contact, resident, open conversation and campaign in one query: the reply's one read.
        sender = await events.sender(inbound.channel, inbound.address)
        contact = sender.contact if sender else None
        now = self._clock()  # our clock, not the provider's: one timeline for every row
        # Routed before anything is written: an answer's outcome (most replies) is written with its event.
        route = route_of(inbound, sender, self._definitions, now)
        known = route.known_outcome()
        event_id = await events.record_new(
            InboundEvent(
                channel=inbound.channel,
                provider_id=inbound.provider_id,
                contact_id=contact.id if contact else None,
                text=inbound.text,
                full_text=inbound.full_text,
                outcome=known.value if known else "received",
                received_at=now,
            )
        )
        if event_id is None:
            return Handled(Outcome.DUPLICATE, None, contact.id if contact else None)
        outcome = await self._follow(session, inbound, sender, route, event_id, now)
        if outcome is not known:
            await events.set_outcome(event_id, outcome.value)
        return Handled(outcome, event_id, contact.id if contact else None)

    async def _follow(
        self, session: AsyncSession, inbound: Inbound, sender: Sender | None, route: Route, event_id: int, now: datetime
    ) -> Outcome:
        """What the message does, its event stored (with its outcome when the route knew it)."""
        if sender is None:
            return await self._enrol(session, inbound, event_id) if route.way is Way.JOINING else Outcome.UNKNOWN_SENDER
        resident, contact = sender.resident, sender.contact
        await ResidentRepository(session).note_inbound(contact, now=now)
        if route.way is Way.ENROLMENT:
            assert route.enrolling is not None
            return await self._continue_enrolment(session, inbound, resident, contact, event_id, route.enrolling)
        if route.way is Way.STOPPED_BY_PROVIDER:
            return await self._stop(session, resident, contact, event_id, said_by(inbound, event_id), confirm=False)
        if route.way is Way.KEYWORD:
            assert route.keyword is not None
            return await self._keyword(session, route.keyword, resident, contact, event_id, said_by(inbound, event_id))
        if route.way is Way.OPTED_OUT:
            return Outcome.OPTED_OUT
        return await self._answer(session, sender, route, event_id, now)

    async def _keyword(
        self,
        session: AsyncSession,
        match: KeywordMatch,
        resident: Resident,
        contact: ContactAddress,
        event_id: int,
        because: Because,
    ) -> Outcome:
        now = self._clock()
        assert resident.id is not None and contact.id is not None
        residents = ResidentRepository(session)
        if match.keyword is Keyword.STOP:
            return await self._stop(session, resident, contact, event_id, because, confirm=True)
        if match.keyword is Keyword.START:
            await residents.opt_in_contact(contact.id, now=now, because=because)
            await self._reply(session, resident, contact, event_id, service_texts.started(resident.language))
            return Outcome.STARTED
        if contact.opted_out_at is not None:
            return Outcome.OPTED_OUT
        if match.keyword is Keyword.HELP:
            text = service_texts.help_text(resident.language, self._organisation, self._privacy)
            await self._reply(session, resident, contact, event_id, text)
            return Outcome.HELP
        if match.language is None:  # "/language" alone: say how to choose
            await self._reply(session, resident, contact, event_id, service_texts.language_choices(resident.language))
            return Outcome.LANGUAGE
        resident.language = match.language
        resident.updated_at = now
        session.add(resident)
        await self._reply(session, resident, contact, event_id, service_texts.language_set(match.language))
        return Outcome.LANGUAGE

    async def _enrol(self, session: AsyncSession, inbound: Inbound, event_id: int) -> Outcome:
        """A stranger's /start SOURCE: a resident without consent yet, and the first question."""
        language = supported_or_default(inbound.language_hint)
        resident, _ = await ResidentRepository(session).upsert(
            addresses=[AddressInput(inbound.channel, inbound.address, consent_source=None, consent_at=None)],
            language=language,
            attributes={
                ENROLMENT_ATTRIBUTE: enrolment.FIRST_STEP,
                **recruitment(VIA_SELF_ENROLMENT, inbound.argument or inbound.channel),
            },
            now=self._clock(),
            because=Because(Source.SELF_ENROLMENT),  # no consent yet: nothing for the ledger
        )
        contact = await ResidentRepository(session).contact_by_address(inbound.channel, inbound.address)
        assert contact is not None
        step = enrolment.begin(language, self._organisation, self._choices)
        await self._send_prompts(session, resident, contact, event_id, step.prompts)
        return Outcome.ENROLLING

    async def _continue_enrolment(
        self,
        session: AsyncSession,
        inbound: Inbound,
        resident: Resident,
        contact: ContactAddress,
        event_id: int,
        current: str,
    ) -> Outcome:
        now = self._clock()
        attributes = dict(resident.attributes)
        if inbound.command == "start":  # begin again from the top, a few times at most
            starts = int(attributes.get(ENROLMENT_STARTS, 1))
            step = enrolment.start_again(str(current), starts, resident.language, self._organisation, self._choices)
            attributes[ENROLMENT_STARTS] = min(starts + 1, enrolment.MAX_STARTS)
        else:
            reply = inbound.tap.key if inbound.tap is not None else inbound.text
            step = enrolment.advance(str(current), reply, resident.language, self._choices)
        source = f"{inbound.channel}:{attributes.get(RECRUITMENT_SOURCE, inbound.channel)}"
        because = Because(Source.SELF_ENROLMENT, detail=source, channel=inbound.channel, inbound_event_id=event_id)
        if step.consented:  # their own yes (after a no, too), with what they were shown
            notice = enrolment.consent_notice(resident.language, self._organisation)
            await ResidentRepository(session).consent(
                contact, source=source, now=now, because=dataclasses.replace(because, notice=notice)
            )
        if step.declined:
            assert contact.id is not None
            why = "under 16" if step.under_age else "said no"
            await ResidentRepository(session).opt_out_contact(
                contact.id, now=now, because=dataclasses.replace(because, detail=f"{source}: {why}")
            )
        resident.language = step.updates.get("language", resident.language)
        attributes.update({key: value for key, value in step.updates.items() if key != "language"})
        if step.next_step is None:
            attributes.pop(ENROLMENT_ATTRIBUTE, None)
            if not step.declined:  # a no keeps the count: no/start cannot loop without end
                attributes.pop(ENROLMENT_STARTS, None)
        else:
            attributes[ENROLMENT_ATTRIBUTE] = step.next_step
        resident.attributes = attributes
        resident.updated_at = now
        session.add(resident)
        await self._send_prompts(session, resident, contact, event_id, step.prompts)
        if step.declined:
            return Outcome.DECLINED
        return Outcome.ENROLLED if step.next_step is None else Outcome.ENROLLING

    async def _send_prompts(
        self,
        session: AsyncSession,
        resident: Resident,
        contact: ContactAddress,
        event_id: int,
        prompts: tuple[enrolment.Prompt, ...],
    ) -> None:
        assert resident.id is not None and contact.id is not None
        outbox = OutboxRepository(session)
        for number, prompt in enumerate(prompts):
            # A question-shaped key lets a channel with buttons offer them (campaign 0: enrolment).
            key = (
                f"q:{enrolment.ENROLMENT_CAMPAIGN}:{resident.id}:{prompt.step}:e{event_id}"
                if prompt.step
                else f"reply:{event_id}:{number}"
            )
            await outbox.enqueue(
                NewMessage(
                    idempotency_key=key,
                    resident_id=resident.id,
                    contact_id=contact.id,
                    kind="system",
                    text=prompt.text,
                    choices=[{"key": key, "label": label} for key, label in prompt.choices],
                ),
                now=self._clock(),
            )

    async def _stop(
        self,
        session: AsyncSession,
        resident: Resident,
        contact: ContactAddress,
        event_id: int,
        because: Because,
        *,
        confirm: bool,
    ) -> Outcome:
        """STOP silences every address of the resident, once. `confirm`: we send the one confirmation;
        a provider that handled STOP itself (Twilio Advanced Opt-Out) has already sent it."""
        assert resident.id is not None
        if contact.opted_out_at is not None:
            return Outcome.OPTED_OUT  # one confirmation, then nothing
        now = self._clock()
        await ResidentRepository(session).opt_out_everywhere(resident.id, now=now, because=because)
        await ConversationRepository(session).stop_all_for_resident(resident.id, now=now)
        await OutboxRepository(session).cancel_queued_for_resident(resident.id)
        if not confirm:
            return Outcome.STOPPED_BY_PROVIDER
        await self._reply(session, resident, contact, event_id, service_texts.stopped(resident.language))
        return Outcome.STOPPED

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
        self, session: AsyncSession, sender: Sender, route: Route, event_id: int, now: datetime
    ) -> Outcome:
        resident, contact, conversation, record = sender.resident, sender.contact, sender.conversation, sender.campaign
        assert contact.id is not None
        conversations = ConversationRepository(session)
        step, flow = route.step, route.flow
        if conversation is None or record is None or step is None or flow is None:
            return await self._after_the_end(session, resident, contact, event_id)
        if isinstance(step, Outcome):
            return step
        if isinstance(step, FlowState):  # a pick on a multi question: kept, so no restart loses it
            await conversations.advance(conversation, {"state": step.model_dump(mode="json")}, now=now)
            return Outcome.PICKED
        delivery = Delivery.of(record, flow, resident, contact, conversation)
        applied = await apply_effects(
            session,
            delivery,
            step.effects,
            inbound_event_id=event_id,
            now=now,
            initiated=False,  # the resident just wrote: the follow-up is a reply
            spread=self._spread,
            answers_wanted=sender.answers_wanted,
        )
        # Reminders are for those who never answered.
        changes = {"state": step.state.model_dump(mode="json"), "last_reply_at": now, "next_reminder_at": None}
        if applied.asked:
            changes |= answer_timers(flow, now=applied.asked_from or now, first=False)
        if applied.completed:
            changes |= {"status": "completed", "expires_at": None}
            facts = {"conversation_id": conversation.id}
            await record_event(
                session, CONVERSATION_COMPLETED, campaign_id=conversation.campaign_id, facts=facts, now=now
            )
        await conversations.advance(conversation, changes, now=now)
        if applied.completed:
            await activate_next_waiting(session, contact.id, self._definitions, now=now, spread=self._spread)
        return Outcome.ANSWERED

    async def _after_the_end(
        self, session: AsyncSession, resident: Resident, contact: ContactAddress, event_id: int
    ) -> Outcome:
        """A reply to a campaign that has closed (or whose time to answer ran out): not counted, and
        answered politely, once per conversation."""
        assert contact.id is not None and resident.id is not None
        ended = await ConversationRepository(session).latest_ended_on_contact(contact.id)
        if ended is None:
            return Outcome.NO_CONVERSATION
        await OutboxRepository(session).enqueue(
            NewMessage(
                idempotency_key=f"closed:{ended.id}",
                resident_id=resident.id,
                contact_id=contact.id,
                kind="system",
                text=service_texts.closed(resident.language),
            ),
            now=self._clock(),
        )
        return Outcome.CAMPAIGN_CLOSED
