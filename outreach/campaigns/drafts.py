"""Changing a draft: the campaign editor's save. Only a draft changes; once launched (or scheduled) a
campaign's definition is what its residents were asked, and stays so."""

from __future__ import annotations

from flows.campaign import Campaign
from flows.explanation import Explanation
from flows.texts import PrivacyNotice
from outreach import audit
from outreach.audit import Actor
from outreach.campaigns.commands import CampaignCommandError, noticed
from outreach.clock import Clock
from storage.campaigns import CampaignRepository
from storage.db import SessionFactory
from storage.tables import CampaignRecord


async def revise_draft(
    sessions: SessionFactory,
    reference: str,
    flow: Campaign,
    *,
    clock: Clock,
    actor: Actor | None = None,
    notice: PrivacyNotice | None = None,
    source: str | None = None,
) -> CampaignRecord:
    """Store `flow` as draft `reference`'s definition (its slug stays: links to it keep working);
    `notice` goes on its first message as `create_campaign` puts it. `source`: the YAML the flow was
    read from, kept for the editor (None: none is kept)."""
    flow, source = noticed(flow, source, notice)
    async with sessions() as session, session.begin():
        campaigns = CampaignRepository(session)
        record = await campaigns.by_reference(reference)
        if record is None or record.id is None:
            raise CampaignCommandError(f"no campaign '{reference}'")
        # Locked (on PostgreSQL) so that a launch starting now sees either this version or the last.
        record = await session.get_one(CampaignRecord, record.id, with_for_update=True, populate_existing=True)
        if record.status != "draft":
            raise CampaignCommandError(
                Explanation(
                    "not_a_draft",
                    "the campaign is %(status)s: only a draft can be changed",
                    {"status": record.status},
                    worded=("status",),
                )
            )
        record.name = flow.name
        record.definition = flow.model_dump(mode="json", exclude_unset=True)
        record.source = source
        record.starts_at, record.closes_at = flow.schedule.start, flow.schedule.close
        session.add(record)
        await session.flush()
        if actor is not None:
            details: dict[str, audit.DetailValue] = {"slug": record.slug, "questions": len(flow.questions)}
            await audit.record(session, actor, audit.CAMPAIGN_EDIT, "campaign", record.id, details, at=clock())
        return record
