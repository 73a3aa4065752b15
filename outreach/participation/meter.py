"""The usual-suspects meter (pure): over a set of campaigns, how concentrated answering is (top 1% and
10% shares, Gini), the share of first-time respondents in each campaign, each split by channel,
district and recruitment source, with groups of fewer than k respondents suppressed.

A participation is one resident answering one campaign. A respondent of a campaign is a first-timer
when that participation is their first ever (earliest first answer; the lower campaign id on a tie),
judged on the whole history, not only on the campaigns measured.

The service counts these in the database (storage.meter_counts: histograms of answers per respondent
and first-timers per campaign, a few dozen rows however many residents answered) and makes the figures
from the counts (meter_from_counts). count_participations is the same counting in Python, on the
participations themselves: the definition the database's counting is tested against.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from outreach.participation.concentration import histogram_gini, histogram_top_share
from outreach.participation.models import (
    CampaignNewcomers,
    Concentration,
    MeterGroup,
    MeterSplit,
    ParticipationMeter,
    TopShareFigure,
)
from outreach.survey.small_cells import suppressed_line, suppressed_table
from storage.meter_counts import SPLITS as SPLITS  # the splits counted, as the API names them
from storage.meter_counts import Histogram, MeterCounts, Newcomers

NOBODY = Newcomers(respondents=0, first_timers=0)


@dataclass(frozen=True)
class Participation:
    """A resident's answers to one campaign, as their first answer there saw them."""

    resident_id: int
    campaign_id: int
    answered_at: datetime  # the first answer
    channel: str
    district: str | None
    recruitment_source: str | None

    def value(self, split: str) -> str | None:
        return {"channel": self.channel, "district": self.district, "recruitment_source": self.recruitment_source}[
            split
        ]


def first_participations(history: Iterable[Participation]) -> set[tuple[int, int]]:
    """(resident, campaign) of each resident's first participation."""
    first: dict[int, tuple[datetime, int]] = {}
    for participation in history:
        mark = (participation.answered_at, participation.campaign_id)
        known = first.get(participation.resident_id)
        if known is None or mark < known:
            first[participation.resident_id] = mark
    return {(resident_id, campaign_id) for resident_id, (_, campaign_id) in first.items()}


def _histogram(participations: Iterable[Participation]) -> Histogram:
    """Residents per number of participations."""
    per_resident: dict[int, int] = {}
    for participation in participations:
        per_resident[participation.resident_id] = per_resident.get(participation.resident_id, 0) + 1
    histogram: Histogram = {}
    for answers in per_resident.values():
        histogram[answers] = histogram.get(answers, 0) + 1
    return histogram


def _newcomers_of(participations: Sequence[Participation], firsts: set[tuple[int, int]]) -> Newcomers:
    first = sum(1 for p in participations if (p.resident_id, p.campaign_id) in firsts)
    return Newcomers(respondents=len(participations), first_timers=first)


def count_participations(
    scope: Sequence[Participation], firsts: set[tuple[int, int]], campaigns: Collection[int]
) -> MeterCounts:
    """What storage.meter_counts counts in the database, counted in Python: its definition."""
    counts = MeterCounts(answered=_histogram(scope))
    for campaign_id, participations in _by_campaign(scope).items():
        if campaign_id in campaigns:
            counts.campaigns[campaign_id] = _newcomers_of(participations, firsts)
    for split in SPLITS:
        by_value: dict[str | None, list[Participation]] = {}
        for participation in scope:
            by_value.setdefault(participation.value(split), []).append(participation)
        for value, group in by_value.items():
            counts.groups[(split, value)] = _histogram(group)
            for campaign_id, participations in _by_campaign(group).items():
                if campaign_id in campaigns:
                    counts.group_campaigns[(split, value, campaign_id)] = _newcomers_of(participations, firsts)
    return counts


def _top(histogram: Histogram, fraction: float, k: int) -> TopShareFigure | None:
    """The top share, withheld when the top group is fewer than k residents: the top 1% of 80 is one
    person, and their share of the answers (with the answers published) is their own count."""
    top = histogram_top_share(histogram, fraction)
    if top is None:
        return None
    if top.residents < k:
        return TopShareFigure(residents=top.residents, share=None, suppressed=True)
    return TopShareFigure(residents=top.residents, share=top.share, suppressed=False)


def concentration(histogram: Histogram, k: int) -> Concentration:
    """Top shares and Gini of these answers per respondent; a figure over fewer than k residents is withheld."""
    respondents = sum(histogram.values())
    few = 0 < respondents < k
    return Concentration(
        respondents=respondents,
        answers=sum(answers * residents for answers, residents in histogram.items()),
        top_1_percent=_top(histogram, 0.01, k),
        top_10_percent=_top(histogram, 0.10, k),
        gini=None if few else histogram_gini(histogram),
        gini_suppressed=few,
    )


def participation_meter(
    scope: Sequence[Participation],
    firsts: set[tuple[int, int]],
    campaigns: Mapping[int, str],
    *,
    k: int,
    since: date | None = None,
    until: date | None = None,
    splits: Collection[str] = SPLITS,
    erased: int = 0,
) -> ParticipationMeter:
    """The meter over the participations in `scope` (the campaigns `campaigns` names, id → slug, in the
    order to list them); `firsts` from `first_participations` over the whole history. The rest as
    meter_from_counts says."""
    counts = count_participations(scope, firsts, campaigns)
    return meter_from_counts(counts, campaigns, k=k, since=since, until=until, splits=splits, erased=erased)


def meter_from_counts(
    counts: MeterCounts,
    campaigns: Mapping[int, str],
    *,
    k: int,
    since: date | None = None,
    until: date | None = None,
    splits: Collection[str] = SPLITS,
    erased: int = 0,
) -> ParticipationMeter:
    """The meter from its counts, over the campaigns `campaigns` names (id → slug, in the order to list
    them). Split by those of SPLITS in `splits` (the API leaves out what may not be published).
    `erased`: respondents erased since, left out of the counts, counted."""
    overall = concentration(counts.answered, k)
    return ParticipationMeter(
        **overall.model_dump(),
        since=since,
        until=until,
        k=k,
        campaigns=[_newcomers(slug, counts.campaigns.get(cid, NOBODY)) for cid, slug in campaigns.items()],
        splits=[_split(split, counts, campaigns, k) for split in SPLITS if split in splits],
        erased=erased,
    )


def _by_campaign(participations: Iterable[Participation]) -> dict[int, list[Participation]]:
    grouped: dict[int, list[Participation]] = {}
    for participation in participations:
        grouped.setdefault(participation.campaign_id, []).append(participation)
    return grouped


def _newcomers(slug: str, counted: Newcomers) -> CampaignNewcomers:
    respondents, first = counted.respondents, counted.first_timers
    return CampaignNewcomers(
        campaign=slug,
        respondents=respondents,
        first_timers=first,
        first_timer_share=first / respondents if respondents else None,
    )


_WITHHELD = Concentration(
    respondents=None, answers=None, top_1_percent=None, top_10_percent=None, gini=None, gini_suppressed=True
)


def _split(split: str, counts: MeterCounts, campaigns: Mapping[int, str], k: int) -> MeterSplit:
    # In the order the groups are listed (nulls last), so that suppression's ties fall the same way each time.
    values = sorted(
        (value for by, value in counts.groups if by == split), key=lambda value: (value is None, value or "")
    )
    histograms = {value: counts.groups[(split, value)] for value in values}
    hidden_groups = suppressed_line({value: sum(histograms[value].values()) for value in values}, k)
    # Per campaign: rows are the groups, columns first-timers and returning respondents; the campaign's
    # totals are published, so withheld cells get their complements withheld too.
    shown: dict[tuple[str | None, int], CampaignNewcomers] = {}
    for campaign_id, slug in campaigns.items():
        rows = {value: counts.group_campaigns.get((split, value, campaign_id), NOBODY) for value in values}
        hidden_rows = suppressed_line({value: row.respondents for value, row in rows.items()}, k, hidden_groups)
        cells: dict[tuple[str | None, str], int] = {}
        for value, row in rows.items():
            cells[(value, "first")] = row.first_timers
            cells[(value, "returning")] = row.respondents - row.first_timers
        hidden_cells = suppressed_table(cells, hidden_rows, k)
        for value, row in rows.items():
            figures = _newcomers(slug, row)
            if value in hidden_rows:
                figures = CampaignNewcomers(campaign=slug, respondents=None, first_timers=None, first_timer_share=None)
            elif (value, "first") in hidden_cells or (value, "returning") in hidden_cells:
                figures = figures.model_copy(update={"first_timers": None, "first_timer_share": None})
            shown[(value, campaign_id)] = figures
    groups = []
    for value in values:
        hidden = value in hidden_groups
        measured = _WITHHELD if hidden else concentration(histograms[value], k)
        groups.append(
            MeterGroup(
                **measured.model_dump(),
                value=value,
                suppressed=hidden,
                campaigns=[shown[(value, campaign_id)] for campaign_id in campaigns],
            )
        )
    return MeterSplit(by=split, groups=groups)
