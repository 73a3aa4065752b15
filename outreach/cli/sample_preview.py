"""`campaign preview` of a sampled campaign: the allocation table before anything is sent — per
stratum its population share, the eligible residents, those fatigue holds back, its share of the
size and how many will be drawn — then the short strata and the residents whose values match no
stratum."""

from __future__ import annotations

from rich.table import Table

from flows.model import FixedAllocation, Sample
from outreach.campaigns.fatigue import Fatigue
from outreach.cli.runner import console, warnings
from outreach.survey.sampling import SamplePlan
from storage.tables import CampaignSample


def describe_allocation(sample: Sample) -> str:
    if isinstance(sample.allocation, FixedAllocation):
        return "fixed counts per stratum"
    if sample.allocation == "equal":
        return "equal per stratum"
    return f"proportional to the margins '{sample.margins}'"


def print_sample_plan(plan: SamplePlan, sample: Sample, *, seed: int | None, fatigue: Fatigue) -> None:
    allocation = plan.allocation
    eligible = sum(quota.available for quota in allocation.strata)
    held = sum(plan.held_back.values())
    strata = " × ".join(sample.strata) or "none (a simple random sample)"
    seed_text = f"seed {seed}" if seed is not None else "seed derived from the campaign's id once created"
    console.print(
        f"Sample: {allocation.allocated} of {eligible} eligible residents; strata: {strata};"
        f" allocation {describe_allocation(sample)}; {seed_text}",
        markup=False,
        highlight=False,
    )
    if plan.assumed_independent:
        console.print(
            "The margins have no joint cells for these strata: each stratum's share is the product of"
            " its dimensions' shares (independence assumed).",
            markup=False,
        )
    total_weight = sum(plan.weights.values()) or 1.0
    table = Table("stratum", "share", "eligible", "held back", "wanted", "to draw", "probability", title="allocation")
    for quota in allocation.strata:
        share = plan.weights.get(quota.stratum, 0.0) / total_weight
        table.add_row(
            plan.label(quota.stratum),
            f"{share:.1%}",
            str(quota.available),
            str(plan.held_back.get(quota.stratum, 0)),
            str(quota.wanted),
            str(quota.allocated) + (" (short)" if quota.short else ""),
            f"{quota.inclusion_probability:.3f}",
        )
    console.print(table)
    if held:
        console.print(
            f"Held back by fatigue: {held} residents asked by {fatigue.max_asks} campaigns in the last"
            f" {fatigue.window_days} days (OUTREACH_MAX_ASKS, OUTREACH_ASK_WINDOW_DAYS)",
            markup=False,
        )
    for quota in allocation.short:
        warnings.print(
            f"short stratum {plan.label(quota.stratum)}: wants {quota.wanted}, has {quota.available};"
            " all are drawn and the rest is spread over the other strata",
            markup=False,
            highlight=False,
        )
    for dimension, values in plan.unmatched.items():
        listed = ", ".join(f"{value or '(no value)'} {count}" for value, count in sorted(values.items()))
        warnings.print(
            f"residents whose {dimension} matches no stratum, not drawn: {listed}", markup=False, highlight=False
        )


def drawn_lines(design: CampaignSample) -> list[str]:
    """What a launch drew, for `campaign launch` and `campaign status`: the count and the short strata."""
    drawn = sum(int(stratum["drawn"]) for stratum in design.allocation)
    eligible = sum(int(stratum["eligible"]) for stratum in design.allocation)
    held = sum(int(stratum["held_back"]) for stratum in design.allocation)
    strata = " × ".join(design.strata) or "none"
    lines = [
        f"sample: {drawn} drawn of {eligible} eligible (size {design.size}, strata {strata}, seed {design.seed}"
        + (f"; {held} held back by fatigue)" if held else ")")
    ]
    for stratum in design.allocation:
        if int(stratum["eligible"]) < int(stratum["wanted"]):
            lines.append(
                f"short stratum {stratum['stratum']}: wanted {stratum['wanted']}, had {stratum['eligible']}"
                " (all drawn; the rest spread over the other strata)"
            )
    return lines
