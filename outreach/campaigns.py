"""Campaign commands an official gives: create, launch, status."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from flows.engine import start
from flows.model import Campaign
from outreach.clock import Clock
from outreach.conversations import ConversationContext, apply_effects
from storage.campaigns import CampaignRepository, ConversationRepository
from storage.db import SessionFactory
from storage.outbox import OutboxRepository
from storage.residents import ResidentRepository
from storage.tables import CampaignRecord


class CampaignCommandError(Exception):
    """An official's command that cannot be carried out, with the reason in plain words."""


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name.replace("ł", "l").replace("Ł", "L"))
    ascii_name = ascii_name.encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:60] or "campaign"


async def create_campaign(sessions: SessionFactory, flow: Campaign, *, clock: Clock) -> CampaignRecord:
    async with sessions() as session, session.begin():
        campaigns = CampaignRepository(session)
        base = slug = slugify(flow.name)
        suffix = 2
        while await campaigns.slug_taken(slug):
            slug, suffix = f"{base}-{suffix}", suffix + 1
        return await campaigns.add(
            CampaignRecord(
                slug=slug,
                name=flow.name,
                definition=flow.model_dump(mode="json", exclude_unset=True),
                status="draft",
                created_at=clock(),
            )
        )


async def find_campaign(sessions: SessionFactory, reference: str) -> CampaignRecord:
    async with sessions() as session:
        record = await CampaignRepository(session).by_reference(reference)
    if record is None:
        raise CampaignCommandError(
            f"no campaign '{reference}' (give its id or slug; `campaign status` lists them)"
        )
    return record


@dataclass(frozen=True)
class LaunchReport:
    campaign_id: int
    conversations_started: int


async def launch_campaign(
    sessions: SessionFactory, reference: str, *, clock: Clock, page_size: int = 500
) -> LaunchReport:
    """Start a conversation with everyone in the audience. Safe to run again: residents who already
    have a conversation in this campaign are skipped, so nobody is asked twice."""
    record = await find_campaign(sessions, reference)
    if record.status == "closed":
        raise CampaignCommandError(f"campaign '{record.slug}' is closed and cannot be launched again")
    assert record.id is not None
    flow = Campaign.model_validate(record.definition)
    async with sessions() as session, session.begin():
        stored = await CampaignRepository(session).get(record.id)
        stored.status = "active"
        stored.launched_at = stored.launched_at or clock()
        session.add(stored)
    started = 0
    after_id: int | None = 0
    while after_id is not None:
        async with sessions() as session, session.begin():
            page, after_id = await ResidentRepository(session).audience_page(
                where=flow.audience.where, channels=flow.channels, after_id=after_id, limit=page_size
            )
            conversations = ConversationRepository(session)
            for resident, contact in page:
                assert resident.id is not None and contact.id is not None
                now = clock()
                step = start(flow, resident.language, now)
                conversation_id = await conversations.start_once(
                    campaign_id=record.id,
                    resident_id=resident.id,
                    contact_id=contact.id,
                    state=step.state.model_dump(mode="json"),
                    now=now,
                )
                if conversation_id is None:
                    continue
                context = ConversationContext(
                    campaign_id=record.id,
                    resident_id=resident.id,
                    respondent=resident.pseudonym,
                    contact_id=contact.id,
                    channel=contact.channel,
                )
                await apply_effects(session, context, step.effects, inbound_event_id=None, now=now)
                started += 1
    return LaunchReport(campaign_id=record.id, conversations_started=started)


@dataclass(frozen=True)
class CampaignStatus:
    record: CampaignRecord
    conversations: dict[str, int]
    outbox: dict[str, int]


async def campaign_status(sessions: SessionFactory, reference: str) -> CampaignStatus:
    record = await find_campaign(sessions, reference)
    assert record.id is not None
    async with sessions() as session:
        conversations = await ConversationRepository(session).count_by_status(record.id)
        outbox = await OutboxRepository(session).count_by_status(record.id)
    return CampaignStatus(record=record, conversations=conversations, outbox=outbox)
