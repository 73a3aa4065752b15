"""Weighted results as JSON: what `outreach results --weights … --format json` prints and what the
API's results endpoint returns under `weighted` (one model, so the two cannot drift apart)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WeightedValue(_Out):
    value: str = Field(description="The option key or scale value.")
    label: str = Field(description="As residents saw it, in the campaign's first language.")
    n: int = Field(description="Weighted respondents who gave this answer.")
    share: float | None = Field(description="Unweighted: n over the question's weighted respondents.")
    weighted_share: float | None
    margin_of_error: float | None = Field(
        description="95%, around the weighted share: 1.96·sqrt(p(1−p)/n_eff) with the question's n_eff."
    )


class WeightedQuestion(_Out):
    id: str
    type: str
    n: int = Field(description="Weighted respondents who answered (respondents left out are not counted).")
    effective_n: float | None = Field(description="Kish's effective n, (Σw)²/Σw², over those who answered.")
    design_effect: float | None = Field(description="n / effective n: what weighting costs in precision.")
    values: list[WeightedValue] | None = Field(description="Per answer (yesno, choice, multi, scale); null otherwise.")


class Stratum(_Out):
    dimension: str
    value: str = Field(description="As the margins write it.")
    population_share: float
    contacted: int | None = Field(description="Residents asked; null when suppressed (a small cell).")
    answered: int | None = Field(description="Respondents; null when suppressed (a small cell).")
    response_rate: float | None = Field(description="answered / contacted; null when either is suppressed.")
    weighted_share: float = Field(description="The respondents' weighted share: the population share when met.")
    collapsed_into: str | None = Field(description="The neighbour this value was weighted together with.")
    left_unweighted: bool = Field(
        default=False,
        description="A thin stratum left unweighted (thin=leave): weighted to its share of the sample, not the"
        " population's, so weighted_share is the sample's.",
    )


class WeightedResults(_Out):
    campaign: str
    margins: str = Field(description="The margins weighted to (their latest version).")
    method: str = Field(description="post-stratification (one dimension, or the margins' joint cells) or raking.")
    by: list[str] = Field(description="The dimensions weighted on.")
    joint: bool = Field(description="True when post-stratified on joint cells from the margins file.")
    trim: float | None = Field(description="Weights capped at trim × the mean weight (re-raked); null: no cap.")
    thin: str = Field(
        default="weight",
        description="Strata of fewer than 10 respondents: weight (weighted like the rest, with a warning) or leave"
        " (left unweighted on their dimension: weighted to their share of the sample, and said so in warnings).",
    )
    trimmed: int = Field(description="Respondents whose weight sits at the cap.")
    iterations: int = Field(description="Raking rounds until every margin was met.")
    k: int = Field(description="Counts of fewer than k respondents in the strata are suppressed.")
    contacted: int
    respondents: int = Field(description="Everyone who answered anything, weighted or left out.")
    weighted: int = Field(description="Respondents weighted (weights sum to this number).")
    effective_n: float
    design_effect: float
    left_out: int = Field(description="Respondents whose value of a dimension matches no margin (or who have none).")
    unmatched: dict[str, dict[str, int | None]] = Field(
        description='Per dimension, per value as written ("": none), respondents left out; null: a small cell.'
    )
    strata: list[Stratum]
    questions: list[WeightedQuestion]
    warnings: list[str]
