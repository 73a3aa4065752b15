"""A campaign's sample (pure): the strata of its eligible residents, how many to draw in each
(outreach.survey.allocation), and the draw itself: uniform among the eligible inside each stratum,
from a seed, so every resident's inclusion probability is known and the draw can be made again.

Residents' values are compared with the margins' after the same folding (margins.fold_value); a
resident whose value matches no stratum is counted per dimension and value, never silently dropped.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from flows.explanation import Explanation
from flows.model import STRATUM_JOIN, FixedAllocation, Sample
from outreach.survey.allocation import Allocation, allocate, equal_weights, size_of_share
from outreach.survey.margins import Margins, MarginsError, fold_value

Stratum = tuple[str, ...]  # folded values, one per stratum dimension; () in a simple random sample


NO_VALUES = (
    "audience.sample.strata: no resident in the audience has a value of '%(dimension)s'; check the attribute's name"
)
TOO_LARGE = (
    "audience.sample.%(where)s: %(size)s is more than the %(eligible)s eligible residents in the strata;"
    " ask fewer or widen the audience"
)
TOO_LARGE_HELD = (
    "audience.sample.%(where)s: %(size)s is more than the %(eligible)s eligible residents in the strata"
    " (%(held)s more are held back by fatigue); ask fewer or widen the audience"
)
FIXED_KEY = (
    "audience.sample.allocation.fixed.%(key)s: name one value per stratum dimension (%(dimensions)s),"
    " joined by %(join)s"
)


class SampleError(ValueError):
    """A sample that cannot be drawn, said at the campaign file's key it concerns (audience.sample.…)."""

    def __init__(self, message: str | Explanation) -> None:
        self.explanation = message if isinstance(message, Explanation) else None
        super().__init__(message.text if isinstance(message, Explanation) else message)


MARGINS_REFUSAL = "%(key)s: %(problem)s"


def margins_refusal(key: str, error: MarginsError) -> str | Explanation:
    """A sample refused for its margins, at the key of the campaign file it concerns: explained when the
    margins' problem is (one problem), else as the margins said it (English)."""
    if error.explanation is None:
        return f"{key}: {error}"
    return Explanation("sample_margins", MARGINS_REFUSAL, {"key": key, "problem": error.explanation})


def derived_seed(campaign_id: int) -> int:
    """The seed of a campaign that names none: stable for the campaign, unlike its neighbours'."""
    digest = hashlib.sha256(f"outreach sample {campaign_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def dimension_name(written: str) -> str:
    """A stratum dimension as margins name it (folded, spaces as underscores): `Age band` is `age_band`."""
    return fold_value(written).replace(" ", "_")


@dataclass(frozen=True)
class Frame:
    """Who a sample is drawn from: each resident's values of the stratum dimensions (as written)."""

    eligible: Mapping[int, Sequence[str | None]]  # resident id -> values
    held_back: Mapping[int, Sequence[str | None]]  # residents fatigue keeps out this time


@dataclass(frozen=True)
class SamplePlan:
    dimensions: tuple[str, ...]  # as the campaign names them
    allocation: Allocation[Stratum]
    weights: Mapping[Stratum, float]  # how the size is shared: population shares, 1 each, or fixed counts
    labels: Mapping[Stratum, str]  # how to show a stratum: the values as the margins write them
    assumed_independent: bool  # shares over several dimensions are a product of one-dimensional ones
    members: Mapping[Stratum, tuple[int, ...]]  # the eligible residents of each stratum, by id
    held_back: Mapping[Stratum, int]  # residents fatigue keeps out, per stratum
    unmatched: Mapping[str, Mapping[str, int]] = field(default_factory=dict)  # dimension -> value -> residents

    def label(self, stratum: Stratum) -> str:
        return self.labels.get(stratum, STRATUM_JOIN.join(stratum) or "everyone")


@dataclass(frozen=True)
class Drawn:
    resident_id: int
    stratum: Stratum
    inclusion_probability: float


def plan_sample(sample: Sample, frame: Frame, margins: Margins | None) -> SamplePlan:
    """How many to draw in each stratum of the eligible audience. Raises SampleError on what cannot be
    drawn: an unknown dimension, a dimension no resident has, a sample larger than the audience."""
    dimensions = tuple(sample.strata)
    weights, labels, independent = _weights(sample, margins, frame)
    members: dict[Stratum, list[int]] = {stratum: [] for stratum in weights}
    held_back: dict[Stratum, int] = dict.fromkeys(weights, 0)
    unmatched: dict[str, dict[str, int]] = {}
    for group, counted in ((frame.eligible, None), (frame.held_back, held_back)):
        for resident_id, values in sorted(group.items()):
            stratum = tuple(fold_value(value or "") for value in values)
            if stratum not in weights:
                if counted is None:
                    _count_unmatched(unmatched, dimensions, values, stratum, weights)
                continue
            if counted is None:
                members[stratum].append(resident_id)
            else:
                counted[stratum] += 1
    for index, dimension in enumerate(dimensions):
        if frame.eligible and all(not (values[index] or "").strip() for values in frame.eligible.values()):
            raise SampleError(Explanation("sample_no_values", NO_VALUES, {"dimension": dimension}))
    eligible = sum(len(ids) for ids in members.values())
    size = sample.size if sample.size is not None else _size(sample, eligible)
    if size > eligible:
        held = sum(held_back.values())
        where = "size" if sample.size is not None else "allocation"
        params = {"where": where, "size": size, "eligible": eligible, "held": held}
        raise SampleError(
            Explanation("sample_too_large_held", TOO_LARGE_HELD, params)
            if held
            else Explanation("sample_too_large", TOO_LARGE, params)
        )
    available = {stratum: len(ids) for stratum, ids in members.items()}
    return SamplePlan(
        dimensions=dimensions,
        allocation=allocate(size, weights, available),
        weights=weights,
        labels=labels,
        assumed_independent=independent,
        members={stratum: tuple(ids) for stratum, ids in members.items()},
        held_back=held_back,
        unmatched=unmatched,
    )


def draw(plan: SamplePlan, seed: int) -> list[Drawn]:
    """Uniformly at random among the eligible of each stratum, `allocated` of them. Each stratum has a
    generator of its own (from the seed and the stratum), so one stratum's draw never moves another's."""
    drawn: list[Drawn] = []
    for quota in plan.allocation.strata:
        ids = sorted(plan.members.get(quota.stratum, ()))
        generator = random.Random(f"{seed}:{STRATUM_JOIN.join(quota.stratum)}")
        for resident_id in sorted(generator.sample(ids, quota.allocated)):
            drawn.append(Drawn(resident_id, quota.stratum, quota.inclusion_probability))
    return drawn


def _size(sample: Sample, eligible: int) -> int:
    if isinstance(sample.allocation, FixedAllocation):
        return sum(sample.allocation.fixed.values())
    assert sample.share is not None  # flows.validate: size, share or fixed counts
    return size_of_share(sample.share, eligible)


def _weights(
    sample: Sample, margins: Margins | None, frame: Frame
) -> tuple[dict[Stratum, float], dict[Stratum, str], bool]:
    dimensions = [dimension_name(written) for written in sample.strata]
    if not dimensions:
        return {(): 1.0}, {(): "everyone"}, False
    if isinstance(sample.allocation, FixedAllocation):
        weights: dict[Stratum, float] = {}
        labels: dict[Stratum, str] = {}
        for key, count in sample.allocation.fixed.items():
            parts = tuple(fold_value(part) for part in key.split(STRATUM_JOIN))
            if len(parts) != len(dimensions):
                params = {"key": key, "dimensions": STRATUM_JOIN.join(sample.strata), "join": STRATUM_JOIN}
                raise SampleError(Explanation("sample_fixed_key", FIXED_KEY, params))
            weights[parts], labels[parts] = float(count), key
        return weights, labels, False
    if margins is not None:
        shares, independent = _joint_shares(margins, dimensions)
        labels = {
            stratum: " × ".join(margins.label(dim, value) for dim, value in zip(dimensions, stratum, strict=True))
            for stratum in shares
        }
        if sample.allocation == "equal":
            return equal_weights(shares), labels, False
        return dict(shares), labels, independent
    # Equal allocation without margins: over the strata the audience has.
    written: dict[Stratum, str] = {}
    for group in (frame.eligible, frame.held_back):
        for values in group.values():
            stratum = tuple(fold_value(value or "") for value in values)
            if all(stratum):
                written.setdefault(stratum, " × ".join((value or "").strip() for value in values))
    present = sorted(written)
    return equal_weights(present), {stratum: written[stratum] for stratum in present}, False


def _joint_shares(margins: Margins, dimensions: list[str]) -> tuple[dict[Stratum, float], bool]:
    try:
        return margins.joint_shares(dimensions)
    except MarginsError as error:
        raise SampleError(margins_refusal("audience.sample.strata", error)) from None


def _count_unmatched(
    unmatched: dict[str, dict[str, int]],
    dimensions: tuple[str, ...],
    values: Sequence[str | None],
    stratum: Stratum,
    weights: Mapping[Stratum, float],
) -> None:
    """Count the resident under each of their values that no stratum has (all of them, if each is known
    alone but not together: a fixed allocation that leaves the combination out)."""
    known = [{s[index] for s in weights} for index in range(len(dimensions))]
    missing = [index for index, value in enumerate(stratum) if value not in known[index]] or range(len(dimensions))
    for index in missing:
        per_value = unmatched.setdefault(dimensions[index], {})
        # Counted under the first spelling met of each folded value: "Mars" and "mars" are one value.
        written = next(
            (seen for seen in per_value if fold_value(seen) == stratum[index]), (values[index] or "").strip()
        )
        per_value[written] = per_value.get(written, 0) + 1
