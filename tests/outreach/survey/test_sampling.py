"""A campaign's sample, pure: strata from margins, fatigue's held-back residents, unmatched values, the
seeded uniform draw inside each stratum, and the errors an official gets."""

from __future__ import annotations

from collections import Counter

import pytest

from flows.model import FixedAllocation, Sample
from outreach.survey.margins import Margins
from outreach.survey.sampling import Frame, SampleError, derived_seed, draw, plan_sample

MARGINS = Margins(
    name="city",
    dimensions={"district": {"oliwa": 600.0, "osowa": 400.0}, "age_band": {"18-29": 500.0, "65+": 500.0}},
    labels={("district", "oliwa"): "Oliwa", ("district", "osowa"): "Osowa"},
)


def _frame(
    eligible: dict[int, tuple[str | None, ...]], held_back: dict[int, tuple[str | None, ...]] | None = None
) -> Frame:
    return Frame(eligible=eligible, held_back=held_back or {})


def _city(per_district: int = 100) -> dict[int, tuple[str | None, ...]]:
    # Values as residents' files write them: case and spacing differ from the margins'.
    return {i: ("OLIWA" if i % 2 else " Osowa ",) for i in range(1, 2 * per_district + 1)}


def test_proportional_allocation_follows_the_margins_and_the_draw_stays_in_its_stratum() -> None:
    frame = _frame(_city())
    plan = plan_sample(Sample(size=10, strata=["district"], margins="city"), frame, MARGINS)
    assert [(q.stratum, q.allocated) for q in plan.allocation.strata] == [(("oliwa",), 6), (("osowa",), 4)]
    assert plan.label(("oliwa",)) == "Oliwa"
    drawn = draw(plan, seed=7)
    assert Counter(d.stratum for d in drawn) == {("oliwa",): 6, ("osowa",): 4}
    assert all((d.resident_id % 2 == 1) == (d.stratum == ("oliwa",)) for d in drawn)
    assert {d.inclusion_probability for d in drawn if d.stratum == ("oliwa",)} == {0.06}
    assert draw(plan, seed=7) == drawn  # the same seed, the same residents
    assert draw(plan, seed=8) != drawn


def test_the_draw_is_uniform_inside_a_stratum() -> None:
    plan = plan_sample(Sample(size=2), _frame({i: () for i in range(1, 11)}), None)
    times = Counter(d.resident_id for seed in range(2000) for d in draw(plan, seed))
    assert set(times) == set(range(1, 11))
    assert all(300 < count < 500 for count in times.values())  # 400 expected each (p = 0.2)


def test_strata_over_two_dimensions_are_assumed_independent_without_joint_cells() -> None:
    frame = _frame({i: ("Oliwa" if i % 2 else "Osowa", "18-29" if i % 3 else "65+") for i in range(1, 301)})
    plan = plan_sample(Sample(size=20, strata=["district", "Age band"], margins="city"), frame, MARGINS)
    assert plan.assumed_independent
    assert {q.stratum: q.allocated for q in plan.allocation.strata} == {
        ("oliwa", "18-29"): 6,
        ("oliwa", "65+"): 6,
        ("osowa", "18-29"): 4,
        ("osowa", "65+"): 4,
    }


def test_fatigue_and_unmatched_values_are_counted_never_dropped_unseen() -> None:
    eligible = {**_city(10), 100: ("Mars",), 101: (None,), 102: ("mars",)}
    frame = _frame(eligible, held_back={200: ("oliwa",), 201: ("Oliwa",), 202: ("Osowa",)})
    plan = plan_sample(Sample(size=5, strata=["district"], margins="city"), frame, MARGINS)
    assert plan.held_back == {("oliwa",): 2, ("osowa",): 1}
    assert plan.unmatched == {"district": {"Mars": 2, "": 1}}
    assert sum(len(ids) for ids in plan.members.values()) == 20  # held back and unmatched are not drawn


def test_a_short_stratum_takes_all_it_has() -> None:
    frame = _frame({**{i: ("Oliwa",) for i in range(1, 101)}, 101: ("Osowa",)})
    plan = plan_sample(Sample(size=10, strata=["district"], margins="city"), frame, MARGINS)
    [short] = plan.allocation.short
    assert (short.stratum, short.wanted, short.allocated) == (("osowa",), 4, 1)
    assert plan.allocation.quota(("oliwa",)).allocated == 9


def test_equal_and_fixed_allocation() -> None:
    frame = _frame(_city())
    equal = plan_sample(Sample(size=10, strata=["district"], allocation="equal"), frame, None)
    assert [(q.stratum, q.allocated) for q in equal.allocation.strata] == [(("oliwa",), 5), (("osowa",), 5)]
    fixed = FixedAllocation(fixed={"Oliwa": 7, "OSOWA": 1})
    plan = plan_sample(Sample(strata=["district"], allocation=fixed), frame, MARGINS)
    assert [q.allocated for q in plan.allocation.strata] == [7, 1]
    assert plan.label(("osowa",)) == "OSOWA"


def test_a_share_of_the_eligible_audience() -> None:
    plan = plan_sample(Sample(share=0.05), _frame({i: () for i in range(1, 201)}), None)
    assert plan.allocation.size == 10


@pytest.mark.parametrize(
    ("sample", "message"),
    [
        (Sample(size=500, strata=["district"], margins="city"), "audience.sample.size: 500 is more than the 200"),
        (Sample(size=5, strata=["distrct"], margins="city"), "audience.sample.strata: .*unknown dimension 'distrct'"),
        (Sample(size=5, strata=["sex"], allocation="equal"), "no resident in the audience has a value of 'sex'"),
        (
            Sample(strata=["district"], allocation=FixedAllocation(fixed={"Oliwa×18-29": 3})),
            "audience.sample.allocation.fixed.Oliwa×18-29: name one value per stratum dimension",
        ),
    ],
)
def test_what_cannot_be_drawn_is_said_at_its_key(sample: Sample, message: str) -> None:
    frame = _frame({i: (None,) for i in _city()} if sample.strata == ["sex"] else _city())
    with pytest.raises(SampleError, match=message):
        plan_sample(sample, frame, MARGINS if sample.margins else None)


def test_a_seed_derived_from_the_campaign_is_stable_and_differs_between_campaigns() -> None:
    assert derived_seed(1) == derived_seed(1) != derived_seed(2)
