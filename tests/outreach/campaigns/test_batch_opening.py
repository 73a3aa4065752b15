"""A launch page opened set-based writes what opening each resident alone writes: the same
conversations (active with their timers, or waiting for an address another campaign holds), the same
first questions (quiet hours and spread included), and nothing for a resident opened before."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from flows.loader import load_campaign
from outreach.bootstrap import Services
from outreach.campaigns.batch_opening import open_conversations
from outreach.campaigns.commands import create_campaign
from outreach.campaigns.conversations import open_conversation
from storage.campaigns import CampaignRepository
from storage.residents import ResidentRepository
from storage.tables import Conversation, OutboxMessage
from tests.conftest import ManualClock
from tests.factories import add_resident
from tests.outreach.helpers import CAMPAIGN_YAML, launch

KEY = "test-pseudonym-key"
YAML = CAMPAIGN_YAML + "answer_within: 72h\nschedule:\n  reminders: [24h, 48h]\n"

CONVERSATION_FIELDS = [
    "resident_id",
    "contact_id",
    "respondent",
    "state",
    "status",
    "asked_at",
    "expires_at",
    "next_reminder_at",
]
CONVERSATION_FIELDS += ["reminders_sent", "started_at", "updated_at"]
MESSAGE_FIELDS = [
    "idempotency_key",
    "resident_id",
    "contact_id",
    "channel",
    "kind",
    "text",
    "choices",
    "choice_style",
    "submit_label",
]
MESSAGE_FIELDS += ["template", "status", "attempts", "next_attempt_at", "quiet_hours", "timezone", "created_at"]


async def opened_rows(session: AsyncSession, campaign_id: int) -> list[tuple[Any, ...]]:
    """The campaign's conversations and first questions, as the session sees them."""
    conversations = (
        await session.execute(
            select(Conversation).where(col(Conversation.campaign_id) == campaign_id).order_by(col(Conversation.id))
        )
    ).scalars()
    rows = [tuple(getattr(conversation, name) for name in CONVERSATION_FIELDS) for conversation in conversations]
    messages = (
        await session.execute(
            select(OutboxMessage).where(col(OutboxMessage.campaign_id) == campaign_id).order_by(col(OutboxMessage.id))
        )
    ).scalars()
    rows += [tuple(getattr(message, name) for name in MESSAGE_FIELDS) for message in messages]
    return rows


async def test_a_page_opened_set_based_writes_what_opening_each_alone_writes(
    services: Services, clock: ManualClock
) -> None:
    await add_resident(services, phone="+48600100201", district="Oliwa")
    await add_resident(services, phone="+48600100202", district="Oliwa", timezone="Europe/Kyiv")
    await add_resident(services, phone="+48600100203", district="Osowa", language="en")
    await add_resident(services, email="ola@example.org", district="Oliwa", language="uk")
    # Another campaign holds the third resident's phone: both openings leave that one waiting.
    await launch(services, CAMPAIGN_YAML.replace("channels: [sms, email]", "channels: [sms]") + HOLDS_OSOWA)
    clock.advance(hours=13)  # into the evening: quiet hours and the spread set when the questions go out
    flow = load_campaign(YAML)
    created = await create_campaign(services.sessions, flow, clock=clock)
    assert created.id is not None

    async def opened(one_by_one: bool) -> list[tuple[Any, ...]]:
        async with services.sessions() as session, session.begin():
            residents = ResidentRepository(session)
            page = (await residents.audience_members(where={}, channels=flow.channels, after_id=0, limit=100)).page
            record = await CampaignRepository(session).get(created.id or 0)
            now, spread = clock(), services.spread
            if one_by_one:
                for resident, contact in await residents.with_contacts([(r.id, c.id) for r, c in page]):
                    await open_conversation(
                        session, record, flow, resident, contact, pseudonym_key=KEY, now=now, spread=spread
                    )
            else:
                assert (
                    await open_conversations(session, record, flow, page, pseudonym_key=KEY, now=now, spread=spread)
                    == 4
                )
                # Opened before: nothing more, nothing counted.
                assert (
                    await open_conversations(session, record, flow, page, pseudonym_key=KEY, now=now, spread=spread)
                    == 0
                )
            rows = await opened_rows(session, created.id or 0)
            await session.rollback()
        return rows

    together = await opened(one_by_one=False)
    assert together == await opened(one_by_one=True)
    assert [row[4] for row in together[:4]] == ["active", "active", "waiting", "active"]
    assert len(together) == 4 + 3  # a first question for each but the waiting one
    # The spread: each first question goes out at its own moment after the quiet hours.
    assert len({row[MESSAGE_FIELDS.index("next_attempt_at")] for row in together[4:]}) == 3


HOLDS_OSOWA = "audience:\n  where: {district: [Osowa]}\n"
