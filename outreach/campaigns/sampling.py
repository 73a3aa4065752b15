"""A sampled campaign's residents: who of its audience is eligible (fatigue holds back whoever other
campaigns asked too often lately), how many to draw per stratum, and the draw, recorded once when the
launch starts opening (outreach.campaigns.launches), so every later page opens only the drawn.

The arithmetic is pure (outreach.survey.sampling); this module reads the audience, the margins and
the recent asks, and writes the design and the drawn residents.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from flows.campaign import Campaign
from flows.model import STRATUM_JOIN, Sample
from outreach.campaigns.fatigue import Fatigue, asks_of
from outreach.survey.margins import Margins, MarginsError
from outreach.survey.margins_store import load_margins
from outreach.survey.sampling import Frame, SampleError, SamplePlan, derived_seed, draw, margins_refusal, plan_sample
from storage.db import SessionFactory, read_session
from storage.residents import Member, ResidentRepository
from storage.samples import DrawnResident, SampleRepository
from storage.tables import CampaignSample

READ_PAGE = 1000


def seed_of(sample: Sample, campaign_id: int) -> int:
    return sample.seed if sample.seed is not None else derived_seed(campaign_id)


async def preview_plan(
    sessions: SessionFactory, campaign_id: int | None, flow: Campaign, *, now: datetime, fatigue: Fatigue
) -> SamplePlan:
    """The allocation the campaign would draw now (the same a launch draws, without drawing)."""
    async with read_session(sessions) as session:
        return await _plan(session, campaign_id, flow, now=now, fatigue=fatigue)


async def draw_sample(
    session: AsyncSession, campaign_id: int, flow: Campaign, *, now: datetime, fatigue: Fatigue
) -> CampaignSample:
    """Draw the campaign's sample and record it, in the caller's transaction."""
    sample = flow.audience.sample
    assert sample is not None
    plan = await _plan(session, campaign_id, flow, now=now, fatigue=fatigue)
    drawn = draw(plan, seed_of(sample, campaign_id))
    counts: dict[tuple[str, ...], int] = {}
    for resident in drawn:
        counts[resident.stratum] = counts.get(resident.stratum, 0) + 1
    design = CampaignSample(
        campaign_id=campaign_id,
        seed=seed_of(sample, campaign_id),
        size=plan.allocation.size,
        strata=list(sample.strata),
        margins=sample.margins,
        allocation=[
            {
                "stratum": plan.label(quota.stratum),
                "values": list(quota.stratum),
                "wanted": quota.wanted,
                "eligible": quota.available,
                "held_back": plan.held_back.get(quota.stratum, 0),
                "drawn": counts.get(quota.stratum, 0),
            }
            for quota in plan.allocation.strata
        ],
        drawn_at=now,
    )
    await SampleRepository(session).record(
        design,
        [DrawnResident(d.resident_id, STRATUM_JOIN.join(d.stratum), d.inclusion_probability) for d in drawn],
    )
    return design


async def _plan(
    session: AsyncSession, campaign_id: int | None, flow: Campaign, *, now: datetime, fatigue: Fatigue
) -> SamplePlan:
    sample = flow.audience.sample
    assert sample is not None
    margins = await _margins(session, sample)
    asks = await asks_of(session, campaign_id, now=now, fatigue=fatigue, among=None)
    eligible: dict[int, tuple[str | None, ...]] = {}
    held_back: dict[int, tuple[str | None, ...]] = {}
    after_id: int | None = 0
    while after_id is not None:
        scan = await ResidentRepository(session).audience_members(
            where=flow.audience.where, channels=flow.channels, after_id=after_id, limit=READ_PAGE
        )
        after_id = scan.after_id
        for resident, _ in scan.page:
            values = tuple(_value(resident, dimension) for dimension in sample.strata)
            group = held_back if asks.get(resident.id, 0) >= fatigue.max_asks else eligible
            group[resident.id] = values
    return plan_sample(sample, Frame(eligible, held_back), margins)


async def _margins(session: AsyncSession, sample: Sample) -> Margins | None:
    if sample.margins is None:
        return None
    try:
        return await load_margins(session, sample.margins)
    except MarginsError as error:
        raise SampleError(margins_refusal("audience.sample.margins", error)) from None


def _value(resident: Member, dimension: str) -> str | None:
    value = resident.language if dimension == "language" else resident.attributes.get(dimension)
    return None if value is None else str(value)
