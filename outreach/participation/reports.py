"""The participation figures read from the store and built: coverage against margins, the meter over
the campaigns launched in a date range, and one campaign's part of its results (the CLI, the API and
the results JSON all call these)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flows.campaign import Campaign
from outreach.participation.coverage import DimensionCounts, RegisterCounts, coverage
from outreach.participation.meter import SPLITS, Participation, first_participations, participation_meter
from outreach.participation.models import CampaignParticipation, Coverage, ParticipationMeter
from outreach.participation.self_selection import GroupAnswerCount, group_of, self_selection
from outreach.survey.margins import Margins, MarginsError
from outreach.survey.margins_store import DEFAULT_MARGINS, default_margins, load_margins
from storage.coverage import CoverageCounts
from storage.db import SessionFactory, read_session
from storage.participation import (
    GroupedAnswers,
    ParticipationRow,
    answers_by_group,
    campaigns_launched,
    erased_respondents,
    participations,
    respondents_by_group,
)
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


def _participation(row: ParticipationRow) -> Participation:
    return Participation(
        row.resident_id, row.campaign_id, row.answered_at, row.channel, row.district, row.recruitment_source
    )


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


async def participation_report(
    sessions: SessionFactory, since: date, until: date, *, k: int, splits: Collection[str] = SPLITS
) -> ParticipationMeter:
    """The meter over the campaigns launched from `since` to `until` (days, UTC, both included), split
    by `splits` (the API's: only those it may publish)."""
    async with read_session(sessions) as session:
        campaigns = await campaigns_launched(session, day_start(since), day_start(until + timedelta(days=1)))
        history = [_participation(row) for row in await participations(session)]
        erased = await erased_respondents(session, campaigns)
    scope = [p for p in history if p.campaign_id in campaigns]
    firsts = first_participations(history)
    return participation_meter(scope, firsts, campaigns, k=k, since=since, until=until, splits=splits, erased=erased)


@dataclass(frozen=True)
class CampaignParticipationRows:
    """What one campaign's part is built from, read from the store (so the building can run off the
    event loop, with no session)."""

    campaign_id: int
    slug: str
    history: list[Participation]
    groups: dict[tuple[bool, str | None], int]
    answers: list[GroupedAnswers]
    erased: int


async def read_campaign_participation(sessions: SessionFactory, record: CampaignRecord) -> CampaignParticipationRows:
    assert record.id is not None
    async with read_session(sessions) as session:
        history = [_participation(row) for row in await participations(session, respondents_of=record.id)]
        groups = await respondents_by_group(session, record.id)
        answers = await answers_by_group(session, record.id)
        erased = await erased_respondents(session, [record.id])
    return CampaignParticipationRows(record.id, record.slug, history, groups, answers, erased)


def build_campaign_participation(
    rows: CampaignParticipationRows, flow: Campaign, *, k: int, splits: Collection[str] = SPLITS
) -> CampaignParticipation:
    """The part `campaign_participation` returns, from what it read (CPU only: no session)."""
    history = rows.history
    last = max((p.answered_at for p in history if p.campaign_id == rows.campaign_id), default=None)
    # Its respondents' answers up to this campaign: a later campaign must not change how this one reads.
    scope = [p for p in history if last is not None and p.answered_at <= last]
    meter = participation_meter(
        scope, first_participations(history), {rows.campaign_id: rows.slug}, k=k, splits=splits, erased=rows.erased
    )
    per_group: dict[str, int] = {}
    for (drawn, via), count in rows.groups.items():
        group = group_of(drawn, via)
        per_group[group] = per_group.get(group, 0) + count
    counted = [
        GroupAnswerCount(group_of(a.drawn, a.recruited_via), a.question_id, a.value, a.count) for a in rows.answers
    ]
    return CampaignParticipation(meter=meter, sampled_vs_self_enrolled=self_selection(flow, per_group, counted, k=k))


async def campaign_participation(
    sessions: SessionFactory, record: CampaignRecord, flow: Campaign, *, k: int, splits: Collection[str] = SPLITS
) -> CampaignParticipation:
    """One campaign's part: its first-timers, how many campaigns its respondents have answered up to
    it (split by `splits`), and its answers from the sampled beside the self-enrolled."""
    rows = await read_campaign_participation(sessions, record)
    return build_campaign_participation(rows, flow, k=k, splits=splits)
