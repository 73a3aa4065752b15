"""Opening a launch page's conversations set-based: what `open_conversation` does for one resident,
for a page of them in a few statements (the conversations in one write, their first questions in
another), so that a city's launch takes a minute instead of an hour.

The first step and its messages are worked out once per (language, channel) and shared by every
resident of that pair: a resident's own rows differ only in their ids, keys, respondent pseudonym
and release time (quiet hours in their zone, worked out once per zone, plus their key's spread).
Rows are plain tuples in column order, not objects: a city's launch writes a million of them.

Called inside the launch's page transaction, under its lease (outreach.campaigns.launches): nobody
else opens this campaign's conversations meanwhile, so the residents who already have one are read
once and left out. Any refusal of the database raises; the caller undoes the page's writes and
opens it one resident at a time, which skips and reports only the refused ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from flows.campaign import Campaign
from flows.engine import Ask, Say, start
from outreach.campaigns.conversations import (
    Delivery,
    answer_deadline,
    first_reminder,
    is_first_ask,
    message_key,
    outbound_message,
)
from outreach.campaigns.pseudonyms import respondent_pseudonym
from outreach.campaigns.quiet_hours import QuietHours, resident_zone, spread_offset, window_end
from storage.campaigns import ConversationRepository, NewConversation
from storage.outbox_bulk import enqueue_records, outbox_record
from storage.residents import Member, MemberAddress
from storage.tables import CampaignRecord

# The columns of an outbox record (storage.outbox_bulk.OUTBOX_COLUMNS) a variant's messages share:
# kind … attempts, and the channel last; the ones around them are the resident's own.
_SHARED = slice(4, 12)


@dataclass(frozen=True)
class _FirstMessage:
    effect: Ask | Say
    shared: tuple[Any, ...]  # the outbox record's columns that are the same for every resident
    first_ask: bool  # its answer window starts when it goes out


@dataclass(frozen=True)
class _Variant:
    """The first step for residents of one language on one channel."""

    state: dict[str, Any]  # one object for all: serialised once per write (storage.bulk)
    messages: tuple[_FirstMessage, ...]


class _FirstSteps:
    """The campaign's first step per (language, channel), and the quiet-hours window's end per zone,
    each worked out on first use."""

    def __init__(self, record: CampaignRecord, flow: Campaign, *, now: datetime, spread: timedelta) -> None:
        self._record, self._flow, self._now, self._spread = record, flow, now, spread
        quiet_hours = flow.schedule.quiet_hours
        self._window = QuietHours.parse(quiet_hours) if quiet_hours else None
        self.quiet_hours = quiet_hours if self._window is not None else None  # as a message keeps it
        self._variants: dict[tuple[str, str], _Variant] = {}
        self._ends: dict[str | None, datetime | None] = {}

    def variant(self, language: str, channel: str) -> _Variant:
        found = self._variants.get((language, channel))
        if found is None:
            found = self._variants[(language, channel)] = self._work_out(language, channel)
        return found

    def _work_out(self, language: str, channel: str) -> _Variant:
        step = start(self._flow, language, self._now)
        # Whose they are does not change a message's content: only its key, ids and release time.
        stand_in = Delivery.to_respondent(
            self._record,
            self._flow,
            resident_id=0,
            language=language,
            attributes={},
            contact_id=0,
            channel=channel,
            respondent="",
        )
        messages = []
        for effect in step.effects:
            if not isinstance(effect, Ask | Say):
                raise TypeError(f"a campaign's first step only asks or says, not {type(effect).__name__}")
            message = outbound_message(stand_in, effect, now=self._now, initiated=True, spread=self._spread)
            shared = outbox_record(message, channel=channel, now=self._now)[_SHARED]
            messages.append(_FirstMessage(effect, shared, is_first_ask(effect)))
        return _Variant(step.state.model_dump(mode="json"), tuple(messages))

    def released(self, timezone: str | None, key: str) -> datetime:
        """When a first message to a resident in `timezone` may go out (as conversations._message)."""
        if timezone not in self._ends:
            self._ends[timezone] = window_end(self._now, self._window, resident_zone(timezone))
        end = self._ends[timezone]
        return self._now if end is None else end + spread_offset(key, self._spread)

    def shown_zone(self, timezone: str | None) -> str | None:
        """The zone a message keeps for the dispatcher's check of quiet hours (none without a window)."""
        return timezone if self._window is not None else None


async def open_conversations(
    session: AsyncSession,
    record: CampaignRecord,
    flow: Campaign,
    audience: Sequence[tuple[Member, MemberAddress]],
    *,
    pseudonym_key: str,
    now: datetime,
    spread: timedelta,
) -> int:
    """Start asking each resident of `audience` (each with their own address), or let them wait while
    another campaign holds that address; residents who already have a conversation in this campaign
    are left as they are. Returns how many conversations were opened."""
    assert record.id is not None
    campaign_id = record.id
    conversations = ConversationRepository(session)
    already = await conversations.residents_among(campaign_id, [resident.id for resident, _ in audience])
    fresh = [(resident, contact) for resident, contact in audience if resident.id not in already]
    if not fresh:
        return 0
    busy = await conversations.contacts_with_active([contact.id for _, contact in fresh])
    first_steps = _FirstSteps(record, flow, now=now, spread=spread)
    quiet_hours = first_steps.quiet_hours
    opened: list[NewConversation] = []
    queued: list[tuple[Any, ...]] = []
    for resident, contact in fresh:
        resident_id, contact_id, channel = resident.id, contact.id, contact.channel
        variant = first_steps.variant(resident.language, channel)
        respondent = respondent_pseudonym(pseudonym_key, resident_id, campaign_id)
        if contact_id in busy:
            opened.append(NewConversation(resident_id, contact_id, respondent, variant.state, "waiting"))
            continue
        timezone = resident.attributes.get("timezone")
        timezone = timezone if isinstance(timezone, str) else None
        shown_zone = first_steps.shown_zone(timezone)
        asked_from: datetime | None = None
        for message in variant.messages:
            key = message_key(campaign_id, resident_id, message.effect)
            released = first_steps.released(timezone, key)
            queued.append(
                (
                    key,
                    campaign_id,
                    resident_id,
                    contact_id,
                    *message.shared,
                    released,
                    quiet_hours,
                    shown_zone,
                    now,
                    channel,
                )
            )
            if message.first_ask:
                asked_from = released
        asked_at = asked_from or now  # as set_answer_timers: the answer window starts when it goes out
        opened.append(
            NewConversation(
                resident_id,
                contact_id,
                respondent,
                variant.state,
                "active",
                asked_at,
                answer_deadline(flow, asked_at),
                first_reminder(flow, asked_at),
            )
        )
    await conversations.start_many(campaign_id, opened, now=now)
    await enqueue_records(session, queued)
    return len(opened)
