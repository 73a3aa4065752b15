"""Channel fallback: when a resident's address fails for good (blocked, invalid, refused), the
conversation moves to their next consented address in the campaign's order of channels and the
current question is asked there, as a new message (its own idempotency key). Under a
`lagging_strata` reminder strategy a resident in a stratum past its target is not followed there."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from flows.engine import Effect, FlowState, ask_question, start
from outreach.campaigns.conversations import Delivery, apply_effects
from outreach.campaigns.parsed_flows import CampaignDefinitions
from outreach.campaigns.reminders import may_fall_back
from storage.campaigns import CampaignRepository, ConversationRepository
from storage.residents import ResidentRepository

log = logging.getLogger(__name__)


async def fall_back(
    session: AsyncSession,
    *,
    campaign_id: int,
    resident_id: int,
    failed_contact_id: int,
    definitions: CampaignDefinitions,
    now: datetime,
    spread: timedelta,
) -> bool:
    """Move the conversation off `failed_contact_id`; False when there is nowhere to go."""
    conversations = ConversationRepository(session)
    conversation = await conversations.of_resident(campaign_id, resident_id)
    if conversation is None or conversation.status != "active" or conversation.contact_id != failed_contact_id:
        return False
    record = await CampaignRepository(session).get(campaign_id)
    flow = definitions.flow(record)
    if not await may_fall_back(session, campaign_id, resident_id, flow):
        log.info("conversation %s: no fallback, its stratum answers above the campaign's rate", conversation.id)
        return False
    residents = ResidentRepository(session)
    candidates = [
        contact
        for contact in await residents.reachable_contacts(resident_id, flow.channels)
        if contact.id != failed_contact_id
    ]
    if not candidates:
        return False
    contact = candidates[0]
    assert contact.id is not None
    resident = await residents.get(resident_id)
    state = FlowState.model_validate(conversation.state)
    if state.done or state.question_id is None:
        return False
    # Nothing answered yet: the new channel gets the opening (intro and first question) too.
    effects: tuple[Effect, ...]
    if conversation.last_reply_at is None and state.question_id == flow.first_question().id:
        effects = start(flow, state.language, now).effects
    else:
        effects = (ask_question(flow.question(state.question_id), state.language, 0),)
    conversation.contact_id = contact.id
    delivery = Delivery.of(record, flow, resident, contact, conversation)
    await apply_effects(
        session,
        delivery,
        effects,
        inbound_event_id=None,
        now=now,
        initiated=True,
        spread=spread,
        key_suffix=f"via-{contact.channel}",
    )
    await conversations.save(conversation, now=now)
    log.info("conversation %s: moved to %s after a failed address", conversation.id, contact.channel)
    return True
