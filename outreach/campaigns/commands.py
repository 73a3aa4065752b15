"""Campaign commands an official gives: create, launch, pause, resume, close, status."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from flows.campaign import Campaign
from flows.campaign_text import with_key
from flows.matching import fold
from flows.texts import PrivacyNotice
from outreach import audit
from outreach.audit import Actor
from outreach.campaigns.conversations import activate_next_waiting
from outreach.campaigns.fatigue import DEFAULT_FATIGUE, Fatigue, fatigue_split
from outreach.campaigns.launch_approval import approval_of_launch
from outreach.campaigns.launches import (
    PAGE_SIZE,
    AudienceProgress,
    Progress,
    audience_progress,
    held_back_by_launch,
    open_audience,
    skipped_residents,
)
from outreach.campaigns.parsed_flows import CampaignDefinitions
from outreach.campaigns.preview import sms_cost
from outreach.campaigns.quiet_hours import QuietHours, release_time, resident_zone
from outreach.campaigns.sampling import preview_plan, seed_of
from outreach.clock import Clock
from outreach.errors import CommandError, Explanation
from outreach.survey.sampling import SampleError, draw
from storage.campaigns import CampaignRepository, ConversationRepository
from storage.db import SessionFactory, read_session
from storage.launches import LaunchRepository, SkippedResident
from storage.outbox import OutboxRepository
from storage.samples import SampleRepository
from storage.tables import CampaignRecord, CampaignSample
from storage.unknown_sends import UnknownSendRepository

DEFAULT_SPREAD = timedelta(minutes=60)


class CampaignCommandError(CommandError):
    """An official's command on a campaign that cannot be carried out, with the reason in plain words."""


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", fold(name)).strip("-")  # fold: no case, no diacritics, ł → l
    return slug[:60] or "campaign"


async def create_campaign(
    sessions: SessionFactory,
    flow: Campaign,
    *,
    clock: Clock,
    actor: Actor | None = None,
    notice: PrivacyNotice | None = None,
    source: str | None = None,
) -> CampaignRecord:
    """Store a draft under a slug of its name (made unique); recorded in the audit log as `actor`'s.
    `notice` (the service's, Settings.privacy_notice) goes on its first message unless the file wrote
    its own. `source`: the YAML the flow was read from, kept (with the notice added) for the editor."""
    flow, source = noticed(flow, source, notice)
    async with sessions() as session, session.begin():
        campaigns = CampaignRepository(session)
        base = slug = slugify(flow.name)
        suffix = 2
        while await campaigns.slug_taken(slug):
            slug, suffix = f"{base}-{suffix}", suffix + 1
        record = await campaigns.add(
            CampaignRecord(
                slug=slug,
                name=flow.name,
                definition=flow.model_dump(mode="json", exclude_unset=True),
                source=source,
                status="draft",
                starts_at=flow.schedule.start,
                closes_at=flow.schedule.close,
                created_at=clock(),
            )
        )
        await _audited(session, actor, audit.CAMPAIGN_CREATE, record, now=record.created_at)
        return record


def noticed(flow: Campaign, source: str | None, notice: PrivacyNotice | None) -> tuple[Campaign, str | None]:
    """The flow with the service's privacy notice on its first message unless it wrote its own, and its
    YAML saying so too, so that the YAML kept is the definition stored."""
    if notice is None or flow.privacy_notice is not None:
        return flow, source
    flow = notice.on(flow)
    if source is not None:
        written = flow.model_dump(mode="json", include={"privacy_notice"})["privacy_notice"]
        source = with_key(source, "privacy_notice", written)
    return flow, source


async def _audited(
    session: AsyncSession,
    actor: Actor | None,
    action: str,
    record: CampaignRecord,
    *,
    now: datetime,
    approval: int | None = None,
) -> None:
    """The audit entry of an official's command, in its transaction (none without an actor: tests,
    the demo's simulated official); a launch names the approval that let it go ahead."""
    if actor is not None:
        details: dict[str, audit.DetailValue] = {"slug": record.slug, "status": record.status}
        if approval is not None:
            details["approval"] = approval
        await audit.record(session, actor, action, "campaign", record.id, details, at=now)


async def find_campaign(sessions: SessionFactory, reference: str) -> CampaignRecord:
    async with sessions() as session:
        record = await CampaignRepository(session).by_reference(reference)
    if record is None:
        raise CampaignCommandError(f"no campaign '{reference}' (give its id or slug; `campaign status` lists them)")
    return record


@dataclass(frozen=True)
class LaunchReport:
    campaign_id: int
    status: str
    conversations_started: int
    skipped: int = 0  # residents the database refused (`campaign status` names them)
    finished: bool = True  # False: another worker is still opening the audience
    held_back: int = 0  # residents fatigue held back (asked by OUTREACH_MAX_ASKS campaigns lately)


async def launch_campaign(
    sessions: SessionFactory,
    reference: str,
    *,
    clock: Clock,
    spread: timedelta = DEFAULT_SPREAD,
    pseudonym_secret: str | None = None,
    sms_prices: Mapping[str, float] | None = None,
    page_size: int = PAGE_SIZE,
    worker_id: str | None = None,
    progress: Progress | None = None,
    fatigue: Fatigue = DEFAULT_FATIGUE,
    actor: Actor | None = None,
    approval_threshold: int | None = None,
) -> LaunchReport:
    """Start a conversation with everyone in the audience, now or at `schedule.start`, but those
    other campaigns asked too often lately (`fatigue`). Safe to run again: residents who already have
    a conversation in this campaign are not asked twice, and a launch cut short goes on where it
    stopped (which any worker's lifecycle tick also does).

    With `approval_threshold` (Settings.admin_approval_threshold: the pages, the API and the CLI give
    it; tests and the demo may not), a draft that would ask more residents than that launches only
    with an approval of its current version (outreach.campaigns.launch_approval): else
    ApprovalRequired."""
    record = await find_campaign(sessions, reference)
    assert record.id is not None
    now = clock()
    if record.status == "closed":
        raise CampaignCommandError(
            Explanation(
                "launch_closed", "campaign '%(slug)s' is closed and cannot be launched again", {"slug": record.slug}
            )
        )
    if record.status == "paused":
        raise CampaignCommandError(
            Explanation(
                "launch_paused",
                "campaign '%(slug)s' is paused: `campaign resume %(slug)s` goes on",
                {"slug": record.slug},
            )
        )
    if record.closes_at is not None and record.closes_at <= now:
        raise CampaignCommandError(
            Explanation(
                "launch_after_close",
                "campaign '%(slug)s' closes at %(close)s, which has passed",
                {"slug": record.slug, "close": record.closes_at.isoformat()},
            )
        )
    flow = Campaign.model_validate(record.definition)
    drawn: set[int] | None = None  # who would be asked now: the sample, or the audience fatigue does not hold back
    if flow.audience.sample is not None and record.launch_state is None:
        # What the draw would refuse (a sample larger than the eligible audience, unknown margins) is
        # said now, before the campaign is scheduled or started; the draw itself comes with the opening.
        try:
            plan = await preview_plan(sessions, record.id, flow, now=now, fatigue=fatigue)
        except SampleError as error:
            raise CampaignCommandError(_sample_refusal(record.slug, error)) from None
        drawn = {d.resident_id for d in draw(plan, seed_of(flow.audience.sample, record.id))}
    approval = None
    if approval_threshold is not None and record.status == "draft":
        # A later run of an active campaign's launch only goes on with the launch this rule let through.
        approved = await approval_of_launch(
            sessions, record, flow, drawn, approval_threshold, now=now, fatigue=fatigue, actor=actor
        )
        approval = approved.id if approved is not None else None
    budget = flow.budget
    if budget is not None and sms_prices:
        if drawn is None:
            drawn = (await fatigue_split(sessions, record.id, flow, now=now, fatigue=fatigue)).eligible
        floor = (await sms_cost(sessions, flow, sms_prices, among=drawn)).floor_cost
        if floor > budget:
            raise CampaignCommandError(
                Explanation(
                    "launch_over_budget",
                    "campaign '%(slug)s' needs at least %(floor)s for SMS (openings and reminders to its"
                    " audience) but its budget is %(budget)s: raise the budget or narrow the audience",
                    {"slug": record.slug, "floor": f"{floor:.2f}", "budget": f"{budget:.2f}"},
                )
            )
    if record.starts_at is not None and record.starts_at > now:
        async with sessions() as session, session.begin():
            await ensure_unchanged(session, record)
            scheduled = await CampaignRepository(session).set_status(record.id, "scheduled", now=now)
            await _audited(session, actor, audit.CAMPAIGN_LAUNCH, scheduled, now=now, approval=approval)
        return LaunchReport(record.id, "scheduled", 0)
    async with sessions() as session, session.begin():
        await ensure_unchanged(session, record)
        active = await CampaignRepository(session).set_status(record.id, "active", now=now)
        await LaunchRepository(session).begin(record.id)  # in the same commit: no active campaign unopened
        await _audited(session, actor, audit.CAMPAIGN_LAUNCH, active, now=now, approval=approval)
    try:
        done = await open_audience(
            sessions,
            record.id,
            clock=clock,
            spread=spread,
            pseudonym_secret=pseudonym_secret,
            worker_id=worker_id,
            page_size=page_size,
            progress=progress,
            fatigue=fatigue,
        )
    except SampleError as error:
        # The audience changed between the check above and the draw: nothing was drawn or sent, and
        # every lifecycle tick tries the draw again until the official closes or fixes the campaign.
        raise CampaignCommandError(_sample_refusal(record.slug, error)) from None
    async with read_session(sessions) as session:
        held_back = await held_back_by_launch(session, await CampaignRepository(session).get(record.id))
    return LaunchReport(record.id, "active", done.opened, done.skipped, done.finished, held_back)


def _sample_refusal(slug: str, error: SampleError) -> Explanation:
    reason: object = error.explanation if error.explanation is not None else str(error)
    return Explanation("launch_sample", "campaign '%(slug)s': %(reason)s", {"slug": slug, "reason": reason})


async def ensure_unchanged(session: AsyncSession, checked: CampaignRecord) -> None:
    """Refuse, in the launch's own transaction, a campaign changed since its checks (audience, budget,
    approval) read it: the draft editor's save locks the row too (outreach.campaigns.drafts), so the
    launch starts exactly the version an approver approved."""
    assert checked.id is not None
    current = await session.get_one(CampaignRecord, checked.id, with_for_update=True, populate_existing=True)
    if current.definition != checked.definition:
        raise CampaignCommandError(
            Explanation(
                "changed_while_launching",
                "campaign '%(slug)s' changed while it was being launched: look at it again and launch again",
                {"slug": checked.slug},
            )
        )


async def pause_campaign(
    sessions: SessionFactory, reference: str, *, clock: Clock, actor: Actor | None = None
) -> CampaignRecord:
    """A paused campaign sends nothing: queued messages are held, replies are still recorded."""
    record = await find_campaign(sessions, reference)
    assert record.id is not None
    if record.status != "active":
        raise CampaignCommandError(
            Explanation(
                "pause_not_active",
                "campaign '%(slug)s' is %(status)s; only an active one can pause",
                {"slug": record.slug, "status": record.status},
                worded=("status",),
            )
        )
    async with sessions() as session, session.begin():
        now = clock()
        await OutboxRepository(session).hold_campaign(record.id)
        paused = await CampaignRepository(session).set_status(record.id, "paused", now=now)
        await _audited(session, actor, audit.CAMPAIGN_PAUSE, paused, now=now)
        return paused


async def resume_campaign(
    sessions: SessionFactory,
    reference: str,
    *,
    clock: Clock,
    spread: timedelta = DEFAULT_SPREAD,
    actor: Actor | None = None,
) -> CampaignRecord:
    """Held messages go out again, each still respecting its resident's quiet hours."""
    record = await find_campaign(sessions, reference)
    assert record.id is not None
    if record.status != "paused":
        raise CampaignCommandError(
            Explanation(
                "resume_not_paused",
                "campaign '%(slug)s' is %(status)s; only a paused one can resume",
                {"slug": record.slug, "status": record.status},
                worded=("status",),
            )
        )
    now = clock()
    async with sessions() as session, session.begin():
        if record.paused_at is not None:
            await ConversationRepository(session).postpone_timers(record.id, by=now - record.paused_at)
        outbox = OutboxRepository(session)
        for held in await outbox.held_of_campaign(record.id):
            window = QuietHours.parse(held.quiet_hours) if held.quiet_hours else None
            at = release_time(now, window, resident_zone(held.timezone), key=held.idempotency_key, spread=spread)
            await outbox.release(held.id, at=at)
        resumed = await CampaignRepository(session).set_status(record.id, "active", now=now)
        await _audited(session, actor, audit.CAMPAIGN_RESUME, resumed, now=now)
        return resumed


async def close_campaign(
    sessions: SessionFactory,
    reference: str,
    definitions: CampaignDefinitions,
    *,
    clock: Clock,
    spread: timedelta = DEFAULT_SPREAD,
    actor: Actor | None = None,
) -> CampaignRecord:
    """Nothing more is sent or counted; addresses it held go on to campaigns waiting for them."""
    record = await find_campaign(sessions, reference)
    assert record.id is not None
    if record.status == "closed":
        raise CampaignCommandError(
            Explanation("already_closed", "campaign '%(slug)s' is already closed", {"slug": record.slug})
        )
    now = clock()
    async with sessions() as session, session.begin():
        closed = await close_in_transaction(session, record.id, definitions, now=now, spread=spread)
        await _audited(session, actor, audit.CAMPAIGN_CLOSE, closed, now=now)
        return closed


async def close_in_transaction(
    session: AsyncSession,
    campaign_id: int,
    definitions: CampaignDefinitions,
    *,
    now: datetime,
    spread: timedelta,
) -> CampaignRecord:
    await OutboxRepository(session).cancel_campaign(campaign_id)
    record = await CampaignRepository(session).set_status(campaign_id, "closed", now=now)
    for contact_id in await ConversationRepository(session).close_campaign(campaign_id, now=now):
        await activate_next_waiting(session, contact_id, definitions, now=now, spread=spread)
    return record


@dataclass(frozen=True)
class CampaignStatus:
    record: CampaignRecord
    conversations: dict[str, int]
    outbox: dict[str, int]
    audience: AudienceProgress
    skips: list[SkippedResident]  # the first of them, by resident
    sample: CampaignSample | None = None  # a sampled campaign's design, once its launch drew it
    # Sends of unknown outcome, reconciled: confirmed, not_seen (queued again), resent, given_up.
    unknown_outcomes: dict[str, int] = field(default_factory=dict)


async def campaign_status(sessions: SessionFactory, reference: str) -> CampaignStatus:
    record = await find_campaign(sessions, reference)
    assert record.id is not None
    async with sessions() as session:
        conversations = await ConversationRepository(session).count_by_status(record.id)
        outbox = await OutboxRepository(session).count_by_status(record.id)
        sample = await SampleRepository(session).design(record.id)
        unknown_outcomes = await UnknownSendRepository(session).count_unknown_outcomes(record.id)
    return CampaignStatus(
        record=record,
        conversations=conversations,
        outbox=outbox,
        audience=await audience_progress(sessions, record),
        skips=await skipped_residents(sessions, record.id),
        sample=sample,
        unknown_outcomes=unknown_outcomes,
    )
