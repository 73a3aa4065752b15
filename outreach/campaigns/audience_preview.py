"""What a campaign's launch would do now, without doing it: whom it would ask (the sample it would
draw, or the audience less those fatigue holds back) and what their SMS would cost. One builder for
`outreach campaign preview` and the API's preview."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from flows.campaign import Campaign
from outreach.campaigns.fatigue import Fatigue, fatigue_split
from outreach.campaigns.preview import SmsCost, sms_cost
from outreach.campaigns.sampling import preview_plan, seed_of
from outreach.survey.sampling import SamplePlan, draw
from storage.db import SessionFactory


@dataclass(frozen=True)
class AudiencePreview:
    asked: set[int]  # the residents a launch now would ask, by id
    held_back: int  # residents fatigue holds back
    plan: SamplePlan | None  # a sampled campaign's allocation
    seed: int | None  # its seed; None for a file not created yet that names none
    sms: SmsCost | None  # None: the campaign does not use SMS


async def audience_preview(
    sessions: SessionFactory,
    flow: Campaign,
    campaign_id: int | None,
    *,
    now: datetime,
    fatigue: Fatigue,
    sms_prices: Mapping[str, float],
) -> AudiencePreview:
    """Raises outreach.survey.sampling.SampleError when the sample cannot be drawn."""
    sample = flow.audience.sample
    plan = None
    seed = None
    if sample is not None:
        plan = await preview_plan(sessions, campaign_id, flow, now=now, fatigue=fatigue)
        seed = seed_of(sample, campaign_id) if campaign_id is not None else sample.seed
        # A file not created yet has no id to derive a seed from: any seed draws a sample of the same size.
        asked = {drawn.resident_id for drawn in draw(plan, seed if seed is not None else 0)}
        held_back = sum(plan.held_back.values())
    else:
        split = await fatigue_split(sessions, campaign_id, flow, now=now, fatigue=fatigue)
        asked, held_back = split.eligible, split.held_back
    sms = await sms_cost(sessions, flow, sms_prices, among=asked) if "sms" in flow.channels else None
    return AudiencePreview(asked=asked, held_back=held_back, plan=plan, seed=seed, sms=sms)
