"""The campaign lifecycle: what is due at a given moment, done idempotently from the database.

Every `serve` process runs these on an APScheduler interval (outreach/scheduler.py), and tests call
them with an injected clock. The database is the only source of truth for what is due: each job
claims its rows (SKIP LOCKED on PostgreSQL, BEGIN IMMEDIATE on SQLite), so two processes running the
same job share the work and never do it twice.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from flows.engine import FlowState, remind
from outreach.campaigns.commands import close_in_transaction
from outreach.campaigns.conversations import Delivery, activate_next_waiting, apply_effects
from outreach.campaigns.fatigue import DEFAULT_FATIGUE, Fatigue
from outreach.campaigns.launches import PAGE_SIZE, Progress, open_audience
from outreach.campaigns.parsed_flows import CampaignDefinitions
from outreach.campaigns.reminders import choose_reminded
from outreach.clock import Clock
from storage.campaigns import CampaignRepository, ConversationRepository
from storage.db import STORE_UNAVAILABLE, SessionFactory, read_session
from storage.launches import LaunchRepository
from storage.residents import ResidentRepository

log = logging.getLogger(__name__)

BATCH = 200


@dataclass(frozen=True)
class TickReport:
    started: int = 0  # conversations opened (scheduled starts, and launches cut short finished)
    skipped: int = 0  # residents those launches had to skip
    closed: int = 0
    reminded: int = 0
    expired: int = 0
    results_back: int = 0  # results-back messages queued to closed campaigns' respondents


class Lifecycle:
    def __init__(
        self,
        sessions: SessionFactory,
        definitions: CampaignDefinitions,
        *,
        clock: Clock,
        spread: timedelta,
        pseudonym_secret: str | None = None,
        worker_id: str | None = None,
        page_size: int = PAGE_SIZE,
        progress: Progress | None = None,
        fatigue: Fatigue = DEFAULT_FATIGUE,
        results_back: Callable[[], Awaitable[int]] | None = None,
    ) -> None:
        self._sessions = sessions
        self._definitions = definitions
        self._clock = clock
        self._spread = spread
        self._pseudonym_secret = pseudonym_secret
        self._worker_id = worker_id
        self._page_size = page_size
        self._progress = progress
        self._fatigue = fatigue
        # Queues closed campaigns' results (outreach.results.results_back, a room above this one: the
        # bootstrap passes it in); None: nothing goes back.
        self._results_back = results_back

    async def tick(self) -> TickReport:
        """Everything that is due now, in the order that keeps it consistent."""
        closed = await self.close_due_campaigns()
        started, skipped = await self.start_due_campaigns()
        report = TickReport(
            closed=closed,
            started=started,
            skipped=skipped,
            expired=await self.expire_due_conversations(),
            reminded=await self.send_due_reminders(),
            results_back=await self.send_results_back(),
        )
        if report != TickReport():
            log.info("lifecycle: %s", report)
        return report

    async def start_due_campaigns(self) -> tuple[int, int]:
        """Scheduled campaigns whose start has come begin asking their audience, and launches cut
        short (an outage, a restart, a worker that died) are finished: (conversations opened, skipped)."""
        async with self._sessions() as session, session.begin():
            for record in await CampaignRepository(session).due_to_start(self._clock()):
                assert record.id is not None
                await CampaignRepository(session).set_status(record.id, "active", now=self._clock())
                await LaunchRepository(session).begin(record.id)
        async with read_session(self._sessions) as session:
            opening = await LaunchRepository(session).opening()
        started = skipped = 0
        for campaign_id in opening:
            try:
                done = await open_audience(
                    self._sessions,
                    campaign_id,
                    clock=self._clock,
                    spread=self._spread,
                    pseudonym_secret=self._pseudonym_secret,
                    worker_id=self._worker_id,
                    page_size=self._page_size,
                    progress=self._progress,
                    fatigue=self._fatigue,
                )
            except STORE_UNAVAILABLE:
                raise  # nothing else can be done either; the next tick goes on
            except Exception:
                # A launch that cannot go on (say a definition this version no longer reads) must not
                # hold up the other campaigns' reminders and expiries; every tick tries it again.
                log.exception("launch of campaign %s stopped; the next tick tries again", campaign_id)
                continue
            started, skipped = started + done.opened, skipped + done.skipped
        return started, skipped

    async def close_due_campaigns(self) -> int:
        async with self._sessions() as session, session.begin():
            due = await CampaignRepository(session).due_to_close(self._clock())
            for record in due:
                assert record.id is not None
                await close_in_transaction(
                    session, record.id, self._definitions, now=self._clock(), spread=self._spread
                )
        return len(due)

    async def send_results_back(self) -> int:
        """Queue the results of closed campaigns to their respondents, once each."""
        return await self._results_back() if self._results_back is not None else 0

    async def send_due_reminders(self) -> int:
        """Ask again those who have not answered at all, after each interval of `schedule.reminders`:
        everyone due, or those the campaign's `reminders` strategy and limit choose
        (outreach.campaigns.reminders); a reminder passed over is not sent, and the next one (if the
        schedule has more) is asked again when it comes due."""
        sent = 0
        while True:
            async with self._sessions() as session, session.begin():
                due = await ConversationRepository(session).due_for_reminder(self._clock(), limit=BATCH)
                residents = ResidentRepository(session)
                chosen: set[int] = set()
                for campaign_id in dict.fromkeys(conversation.campaign_id for conversation in due):
                    flow = self._definitions.flow(await CampaignRepository(session).get(campaign_id))
                    of_campaign = [conversation for conversation in due if conversation.campaign_id == campaign_id]
                    chosen |= await choose_reminded(session, campaign_id, flow, of_campaign)
                for conversation in due:
                    record = await CampaignRepository(session).get(conversation.campaign_id)
                    flow = self._definitions.flow(record)
                    number = conversation.reminders_sent + 1
                    state = FlowState.model_validate(conversation.state)
                    ask = remind(flow, state, number) if conversation.id in chosen else None
                    if ask is not None:
                        resident = await residents.get(conversation.resident_id)
                        contact = await residents.contact(conversation.contact_id)
                        now = self._clock()
                        await apply_effects(
                            session,
                            Delivery.of(record, flow, resident, contact, conversation),
                            [ask],
                            inbound_event_id=None,
                            now=now,
                            initiated=True,
                            spread=self._spread,
                        )
                        sent += 1
                    reminders = flow.schedule.reminders
                    first_ask = conversation.asked_at or conversation.started_at
                    conversation.reminders_sent = number
                    # A conversation that is over has no reminder to come; one passed over may get the next.
                    over = state.done or state.question_id is None
                    conversation.next_reminder_at = (
                        first_ask + reminders[number] if not over and number < len(reminders) else None
                    )
                    await ConversationRepository(session).save(conversation, now=self._clock())
            if len(due) < BATCH:
                return sent

    async def expire_due_conversations(self) -> int:
        """Conversations whose time to answer (`answer_within`) ran out end; the address is free."""
        expired = 0
        while True:
            async with self._sessions() as session, session.begin():
                conversations = ConversationRepository(session)
                due = await conversations.due_to_expire(self._clock(), limit=BATCH)
                for conversation in due:
                    conversation.status = "expired"
                    conversation.next_reminder_at = None
                    await conversations.save(conversation, now=self._clock())
                for conversation in due:
                    await activate_next_waiting(
                        session,
                        conversation.contact_id,
                        self._definitions,
                        now=self._clock(),
                        spread=self._spread,
                    )
                expired += len(due)
            if len(due) < BATCH:
                return expired
