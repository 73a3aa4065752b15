"""The participation figures as JSON: what `outreach participation|coverage --format json` print, what
the API returns and what campaign results carry under `participation` (one model each, so they
cannot drift apart). A null figure is withheld (a small cell) or not defined."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- the usual-suspects meter ------------------------------------------------------------------


class TopShareFigure(_Out):
    residents: int = Field(description="The most active respondents counted: ceil(1% or 10% of respondents), ≥ 1.")
    share: float | None = Field(description="Their share of all answers; null when suppressed.")
    suppressed: bool = Field(
        description="Fewer than k residents in the top group: their share would tell their own answers."
    )


class Concentration(_Out):
    respondents: int | None = Field(description="Residents who answered at least one campaign.")
    answers: int | None = Field(description="Campaigns answered, summed over respondents (one per campaign each).")
    top_1_percent: TopShareFigure | None
    top_10_percent: TopShareFigure | None
    gini: float | None = Field(description="Gini coefficient of answers per respondent (0: all equal).")
    gini_suppressed: bool = Field(description="Withheld: fewer than k respondents (or the group is suppressed).")


class CampaignNewcomers(_Out):
    campaign: str
    respondents: int | None
    first_timers: int | None = Field(description="Respondents who had answered no campaign before this one.")
    first_timer_share: float | None


class MeterGroup(Concentration):
    value: str | None = Field(description="The channel, district or recruitment source (null: not recorded).")
    suppressed: bool = Field(description="Fewer than k respondents (or what would let such a group be worked out).")
    campaigns: list[CampaignNewcomers]


class MeterSplit(_Out):
    by: str = Field(description="channel, district or recruitment_source (of the answer, as it was given).")
    groups: list[MeterGroup]


class ParticipationMeter(Concentration):
    since: date | None = Field(description="Campaigns launched from this day (UTC); null for one campaign.")
    until: date | None = Field(description="… to this day, inclusive.")
    k: int = Field(description="Groups of fewer respondents are suppressed.")
    campaigns: list[CampaignNewcomers]
    splits: list[MeterSplit]
    erased: int = Field(
        default=0,
        description="Respondents erased since (their answers stay, anonymised, with no link to who they were):"
        " left out of these figures. Over several campaigns one erased resident counts once per campaign they"
        " answered, as nothing left joins one campaign's answers to another's.",
    )


# --- sampled versus self-enrolled ----------------------------------------------------------------


class GroupAnswers(_Out):
    answered: int | None = Field(description="Respondents of the group who answered the question.")
    shares: dict[str, float | None] | None = Field(description="Per answer, of those who answered (counted types).")
    mean: float | None = Field(description="Number and scale questions.")


class QuestionComparison(_Out):
    id: str
    type: str
    sampled: GroupAnswers
    self_enrolled: GroupAnswers
    other: GroupAnswers
    difference: dict[str, float | None] | None = Field(
        description="Per answer: the sampled share minus the self-enrolled share (null when either is withheld)."
    )
    mean_difference: float | None = Field(description="The sampled mean minus the self-enrolled mean.")


class SelfSelection(_Out):
    k: int
    respondents: dict[str, int | None] = Field(
        description="Per group: sampled (drawn in this campaign's sample, imported), self_enrolled (enrolled by"
        " themselves, drawn or not), other (imported and not drawn: an unsampled campaign's register)."
    )
    questions: list[QuestionComparison]


class CampaignParticipation(_Out):
    meter: ParticipationMeter = Field(
        description="This campaign's respondents: their first-timers, and how many campaigns each has answered"
        " up to this one (top shares and Gini over that history)."
    )
    sampled_vs_self_enrolled: SelfSelection


# --- coverage against the census -----------------------------------------------------------------


class StratumCoverage(_Out):
    dimension: str
    value: str = Field(description="As the margins write it.")
    population: float
    population_share: float
    residents: int | None = Field(description="Residents recorded with this value.")
    reachable: int | None = Field(description="Residents reachable and consented on at least one channel.")
    coverage: float | None = Field(description="reachable / population.")
    representation: float | None = Field(
        description="The stratum's share of all reachable residents over its population share (1: as in the city)."
    )
    channels: dict[str, int | None] = Field(description="Reachable and consented residents per channel.")
    channel_coverage: dict[str, float | None] = Field(description="Per channel: reachable / population.")


class UnmatchedResidents(_Out):
    dimension: str
    residents: int | None = Field(description="Residents whose value is missing or matches no margin value.")
    reachable: int | None


class SourceCoverage(_Out):
    source: str | None = Field(description="The import's label or the enrolment source code (null: not recorded).")
    via: str | None = Field(description="import or self-enrolment.")
    residents: int
    reachable: int
    strata: dict[str, dict[str, int | None]] = Field(
        description="Per dimension, residents brought per value (the margins' spelling; '' unmatched)."
    )


class Coverage(_Out):
    margins: str
    k: int
    residents: int
    reachable: int
    channels: dict[str, int]
    strata: list[StratumCoverage] = Field(description="Thinnest first (withheld ones first of all).")
    unmatched: list[UnmatchedResidents]
    sources: list[SourceCoverage]
