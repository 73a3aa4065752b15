"""The participation figures read from the store and built: coverage against margins, the meter over
the campaigns launched in a date range, and one campaign's part of its results (the CLI, the API and
the results JSON all call these)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta

from flows.campaign import Campaign
from outreach.participation.coverage import DimensionCounts, RegisterCounts, coverage
from outreach.participation.meter import SPLITS, meter_from_counts
from outreach.participation.models import CampaignParticipation, Coverage, ParticipationMeter
from outreach.participation.self_selection import GroupAnswerCount, group_of, self_selection
from outreach.survey.margins import Margins, MarginsError
from outreach.survey.margins_store import DEFAULT_MARGINS, default_margins, load_margins
from storage.coverage import CoverageCounts
from storage.db import SessionFactory, read_session
from storage.meter_counts import campaign_counts, range_counts
from storage.participation import answers_by_group, campaigns_launched, erased_respondents, respondents_by_group
from storage.tables import CampaignRecord


async def coverage_report(
    sessions: SessionFactory, margins_name: str, *, k: int, only: Collection[str] | None = None
) -> Coverage:
    """Coverage against the latest margins called `margins_name` (MarginsError when there are none), on
    their dimensions (of `only`, when given: the API publishes allowlisted attributes only)."""
    async with read_session(sessions) as session:
        try:
            margins = await load_margins(session, margins_name)
        except MarginsError:
            if margins_name != DEFAULT_MARGINS:
                raise
            margins = default_margins()  # as shipped, where `outreach db upgrade` has not stored them yet
        if only is not None:
            kept = {dimension: values for dimension, values in margins.dimensions.items() if dimension in only}
            margins = Margins(name=margins.name, dimensions=kept, labels=margins.labels)
        store = CoverageCounts(session)
        residents, reachable, channels = await store.totals()
        dimensions = {
            dimension: DimensionCounts(
                residents=await store.residents_by(dimension),
                reachable=await store.reachable_by(dimension),
                channels=await store.channels_by(dimension),
                sources=await store.sources_by(dimension),
            )
            for dimension in margins.dimensions
        }
        sources = await store.sources()
    return coverage(margins, RegisterCounts(residents, reachable, channels, sources, dimensions), k=k)


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


async def participation_report(
    sessions: SessionFactory, since: date, until: date, *, k: int, splits: Collection[str] = SPLITS
) -> ParticipationMeter:
    """The meter over the campaigns launched from `since` to `until` (days, UTC, both included), split
    by `splits` (the API's: only those it may publish)."""
    async with read_session(sessions) as session:
        campaigns = await campaigns_launched(session, day_start(since), day_start(until + timedelta(days=1)))
        counts = await range_counts(session, campaigns)
        erased = await erased_respondents(session, campaigns)
    return meter_from_counts(counts, campaigns, k=k, since=since, until=until, splits=splits, erased=erased)


async def campaign_meter(
    sessions: SessionFactory, record: CampaignRecord, *, k: int, splits: Collection[str] = SPLITS
) -> ParticipationMeter:
    """One campaign's meter: its first-timers, and how many campaigns its respondents have answered up
    to it (split by `splits`), counted in the database (what the campaign page shows)."""
    assert record.id is not None
    async with read_session(sessions) as session:
        counts = await campaign_counts(session, record.id)
        erased = await erased_respondents(session, [record.id])
    return meter_from_counts(counts, {record.id: record.slug}, k=k, splits=splits, erased=erased)


async def campaign_participation(
    sessions: SessionFactory, record: CampaignRecord, flow: Campaign, *, k: int, splits: Collection[str] = SPLITS
) -> CampaignParticipation:
    """One campaign's part: its meter (campaign_meter) and its answers from the sampled beside the
    self-enrolled."""
    assert record.id is not None
    meter = await campaign_meter(sessions, record, k=k, splits=splits)
    async with read_session(sessions) as session:
        groups = await respondents_by_group(session, record.id)
        answers = await answers_by_group(session, record.id)
    per_group: dict[str, int] = {}
    for (drawn, via), count in groups.items():
        group = group_of(drawn, via)
        per_group[group] = per_group.get(group, 0) + count
    counted = [GroupAnswerCount(group_of(a.drawn, a.recruited_via), a.question_id, a.value, a.count) for a in answers]
    return CampaignParticipation(meter=meter, sampled_vs_self_enrolled=self_selection(flow, per_group, counted, k=k))
