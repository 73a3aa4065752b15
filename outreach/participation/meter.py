"""The usual-suspects meter (pure): over a set of campaigns, how concentrated answering is (top 1% and
10% shares, Gini), the share of first-time respondents in each campaign, each split by channel,
district and recruitment source, with groups of fewer than k respondents suppressed.

A participation is one resident answering one campaign. A respondent of a campaign is a first-timer
when that participation is their first ever (earliest first answer; the lower campaign id on a tie),
judged on the whole history, not only on the campaigns measured.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from outreach.participation.concentration import gini, top_share
from outreach.participation.models import (
    CampaignNewcomers,
    Concentration,
    MeterGroup,
    MeterSplit,
    ParticipationMeter,
    TopShareFigure,
)
from outreach.survey.small_cells import suppressed_line, suppressed_table

SPLITS = ("channel", "district", "recruitment_source")


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


def answers_per_respondent(participations: Iterable[Participation]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for participation in participations:
        counts[participation.resident_id] = counts.get(participation.resident_id, 0) + 1
    return counts


def _top(counts: Sequence[int], fraction: float, k: int) -> TopShareFigure | None:
    """The top share, withheld when the top group is fewer than k residents: the top 1% of 80 is one
    person, and their share of the answers (with the answers published) is their own count."""
    top = top_share(counts, fraction)
    if top is None:
        return None
    if top.residents < k:
        return TopShareFigure(residents=top.residents, share=None, suppressed=True)
    return TopShareFigure(residents=top.residents, share=top.share, suppressed=False)


def concentration(participations: Sequence[Participation], k: int) -> Concentration:
    """Top shares and Gini of these participations; a figure over fewer than k residents is withheld."""
    counts = list(answers_per_respondent(participations).values())
    few = 0 < len(counts) < k
    return Concentration(
        respondents=len(counts),
        answers=sum(counts),
        top_1_percent=_top(counts, 0.01, k),
        top_10_percent=_top(counts, 0.10, k),
        gini=None if few else gini(counts),
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
    order to list them); `firsts` from `first_participations` over the whole history. Split by those of
    SPLITS in `splits` (the API leaves out what may not be published). `erased`: respondents erased
    since, left out of `scope`, counted."""
    overall = concentration(scope, k)
    per_campaign = _by_campaign(scope)
    return ParticipationMeter(
        **overall.model_dump(),
        since=since,
        until=until,
        k=k,
        campaigns=[_newcomers(slug, per_campaign.get(cid, []), firsts) for cid, slug in campaigns.items()],
        splits=[_split(split, scope, firsts, campaigns, k) for split in SPLITS if split in splits],
        erased=erased,
    )


def _by_campaign(participations: Iterable[Participation]) -> dict[int, list[Participation]]:
    grouped: dict[int, list[Participation]] = {}
    for participation in participations:
        grouped.setdefault(participation.campaign_id, []).append(participation)
    return grouped


def _newcomers(slug: str, participations: Sequence[Participation], firsts: set[tuple[int, int]]) -> CampaignNewcomers:
    respondents = len(participations)
    first = sum(1 for p in participations if (p.resident_id, p.campaign_id) in firsts)
    return CampaignNewcomers(
        campaign=slug,
        respondents=respondents,
        first_timers=first,
        first_timer_share=first / respondents if respondents else None,
    )


_WITHHELD = Concentration(
    respondents=None, answers=None, top_1_percent=None, top_10_percent=None, gini=None, gini_suppressed=True
)


def _split(
    split: str, scope: Sequence[Participation], firsts: set[tuple[int, int]], campaigns: Mapping[int, str], k: int
) -> MeterSplit:
    by_value: dict[str | None, list[Participation]] = {}
    for participation in scope:
        by_value.setdefault(participation.value(split), []).append(participation)
    respondents = {value: len(answers_per_respondent(group)) for value, group in by_value.items()}
    hidden_groups = suppressed_line(respondents, k)
    per_campaign = {value: _by_campaign(group) for value, group in by_value.items()}
    # Per campaign: rows are the groups, columns first-timers and returning respondents; the campaign's
    # totals are published, so withheld cells get their complements withheld too.
    shown: dict[tuple[str | None, int], CampaignNewcomers] = {}
    for campaign_id, slug in campaigns.items():
        rows = {value: grouped.get(campaign_id, []) for value, grouped in per_campaign.items()}
        hidden_rows = suppressed_line({value: len(row) for value, row in rows.items()}, k, hidden_groups)
        cells: dict[tuple[str | None, str], int] = {}
        for value, row in rows.items():
            first = sum(1 for p in row if (p.resident_id, p.campaign_id) in firsts)
            cells[(value, "first")] = first
            cells[(value, "returning")] = len(row) - first
        hidden_cells = suppressed_table(cells, hidden_rows, k)
        for value, row in rows.items():
            figures = _newcomers(slug, row, firsts)
            if value in hidden_rows:
                figures = CampaignNewcomers(campaign=slug, respondents=None, first_timers=None, first_timer_share=None)
            elif (value, "first") in hidden_cells or (value, "returning") in hidden_cells:
                figures = figures.model_copy(update={"first_timers": None, "first_timer_share": None})
            shown[(value, campaign_id)] = figures
    groups = []
    for value in sorted(by_value, key=lambda value: (value is None, value or "")):
        hidden = value in hidden_groups
        measured = _WITHHELD if hidden else concentration(by_value[value], k)
        groups.append(
            MeterGroup(
                **measured.model_dump(),
                value=value,
                suppressed=hidden,
                campaigns=[shown[(value, campaign_id)] for campaign_id in campaigns],
            )
        )
    return MeterSplit(by=split, groups=groups)
