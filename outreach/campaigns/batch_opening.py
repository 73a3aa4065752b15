"""Opening a launch page's conversations set-based: what `open_conversation` does for one resident,
for a page of them in a few statements (the conversations in one write, their first questions in
another), so that a city's launch takes a minute instead of an hour.

Called inside the launch's page transaction, under its lease (outreach.campaigns.launches): nobody
else opens this campaign's conversations meanwhile, so the residents who already have one are read
once and left out. Any refusal of the database raises; the caller undoes the page's writes and
opens it one resident at a time, which skips and reports only the refused ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from flows.campaign import Campaign
from flows.engine import Ask, Say, Step, start
from outreach.campaigns.conversations import (
    Delivery,
    answer_deadline,
    first_reminder,
    is_first_ask,
    outbound_message,
)
from outreach.campaigns.pseudonyms import respondent_pseudonym
from storage.campaigns import ConversationRepository, NewConversation
from storage.outbox import NewMessage
from storage.outbox_bulk import enqueue_many
from storage.residents import Member, MemberAddress
from storage.tables import CampaignRecord


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
    conversations = ConversationRepository(session)
    already = await conversations.residents_among(record.id, [resident.id for resident, _ in audience])
    fresh = [(resident, contact) for resident, contact in audience if resident.id not in already]
    if not fresh:
        return 0
    busy = await conversations.contacts_with_active([contact.id for _, contact in fresh])
    first_steps: dict[str, tuple[Step, dict[str, Any]]] = {}  # the first step depends on the language only
    opened: list[NewConversation] = []
    queued: list[tuple[NewMessage, str]] = []
    for resident, contact in fresh:
        first = first_steps.get(resident.language)
        if first is None:
            step = start(flow, resident.language, now)
            first = first_steps[resident.language] = (step, step.state.model_dump(mode="json"))
        step, state = first
        respondent = respondent_pseudonym(pseudonym_key, resident.id, record.id)
        if contact.id in busy:
            opened.append(NewConversation(resident.id, contact.id, respondent, state, "waiting"))
            continue
        delivery = Delivery.to_respondent(
            record,
            flow,
            resident_id=resident.id,
            language=resident.language,
            attributes=resident.attributes,
            contact_id=contact.id,
            channel=contact.channel,
            respondent=respondent,
        )
        asked_from: datetime | None = None
        for effect in step.effects:
            if not isinstance(effect, Ask | Say):
                raise TypeError(f"a campaign's first step only asks or says, not {type(effect).__name__}")
            message = outbound_message(delivery, effect, now=now, initiated=True, spread=spread)
            queued.append((message, contact.channel))
            if is_first_ask(effect):
                asked_from = message.not_before
        asked_at = asked_from or now  # as set_answer_timers: the answer window starts when it goes out
        opened.append(
            NewConversation(
                resident.id,
                contact.id,
                respondent,
                state,
                "active",
                asked_at=asked_at,
                expires_at=answer_deadline(flow, asked_at),
                next_reminder_at=first_reminder(flow, asked_at),
            )
        )
    await conversations.start_many(record.id, opened, now=now)
    await enqueue_many(session, queued, now=now)
    return len(opened)
