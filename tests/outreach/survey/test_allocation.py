"""Allocation by largest remainders: exact sums, short strata take all they have, the rest is spread."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outreach.survey.allocation import allocate, equal_weights, largest_remainders, size_of_share


@pytest.mark.parametrize(
    ("total", "weights", "expected"),
    [
        (10, {"a": 0.5, "b": 0.3, "c": 0.2}, {"a": 5, "b": 3, "c": 2}),
        # Quotas 4.2, 2.8: the larger remainder takes the one left over.
        (7, {"a": 0.6, "b": 0.4}, {"a": 4, "b": 3}),
        # Equal remainders: the earlier stratum first.
        (7, {"a": 1.0, "b": 1.0, "c": 1.0}, {"a": 3, "b": 2, "c": 2}),
        # 1200 over Gdańsk-like populations: 419.3 / 474.5 / 306.2 -> 419, 475, 306.
        (1200, {"x": 34_000, "y": 38_476, "z": 24_830}, {"x": 419, "y": 475, "z": 306}),
        (0, {"a": 1.0}, {"a": 0}),
        (3, {"a": 0.0, "b": 2.0}, {"a": 0, "b": 3}),
    ],
)
def test_largest_remainders_table(total: int, weights: dict[str, float], expected: dict[str, int]) -> None:
    assert largest_remainders(total, weights) == expected


@pytest.mark.parametrize(("total", "weights"), [(-1, {"a": 1.0}), (2, {"a": 0.0}), (2, {"a": -1.0}), (2, {})])
def test_largest_remainders_refuses_what_cannot_be_shared(total: int, weights: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        largest_remainders(total, weights)


def test_a_short_stratum_takes_all_it_has_and_its_shortfall_is_spread() -> None:
    # Wanted 50 / 30 / 20; b has only 10: its 20 go to a and c as 5:2 -> 14 and 6 (14.29, 5.71).
    allocation = allocate(100, {"a": 0.5, "b": 0.3, "c": 0.2}, {"a": 500, "b": 10, "c": 500})
    assert [(q.stratum, q.wanted, q.allocated) for q in allocation.strata] == [
        ("a", 50, 64),
        ("b", 30, 10),
        ("c", 20, 26),
    ]
    assert allocation.allocated == 100 and allocation.shortfall == 0
    assert [q.stratum for q in allocation.short] == ["b"]
    assert allocation.quota("b").inclusion_probability == 1.0
    assert allocation.quota("a").inclusion_probability == pytest.approx(64 / 500)


def test_the_spread_goes_on_while_strata_run_short() -> None:
    # b is short at first; spreading its shortfall makes c short too; a takes the rest.
    allocation = allocate(90, equal_weights(["a", "b", "c"]), {"a": 100, "b": 5, "c": 35})
    assert [q.allocated for q in allocation.strata] == [50, 5, 35]
    assert [q.stratum for q in allocation.short] == ["b"]  # c is not short of its own share (30)


def test_a_sample_larger_than_the_audience_takes_everyone_and_says_how_many_are_missing() -> None:
    allocation = allocate(100, {"a": 1.0, "b": 1.0, "c": 3.0}, {"a": 10, "b": 20})
    assert [q.allocated for q in allocation.strata] == [10, 20, 0]
    assert allocation.shortfall == 70
    assert [q.stratum for q in allocation.short] == ["a", "c"]
    assert allocation.quota("c").inclusion_probability == 0.0


def test_a_stratum_with_no_weight_takes_nobody_even_when_others_run_short() -> None:
    # Fixed counts: {a: 10, b: 0}; a has 4, b has many; b was given 0, so it stays 0.
    allocation = allocate(10, {"a": 10.0, "b": 0.0}, {"a": 4, "b": 100})
    assert [q.allocated for q in allocation.strata] == [4, 0]
    assert allocation.shortfall == 6


def test_size_of_a_share() -> None:
    assert size_of_share(0.05, 1000) == 50
    assert size_of_share(0.05, 30) == 2  # 1.5 rounds half up
    assert size_of_share(0.001, 10) == 1  # a non-empty audience gives at least one
    assert size_of_share(0.5, 0) == 0


strata = st.dictionaries(
    st.text(alphabet="abcdefgh", min_size=1, max_size=3),
    st.tuples(st.floats(min_value=0.01, max_value=1e6), st.integers(min_value=0, max_value=500)),
    min_size=1,
    max_size=12,
)


@given(strata, st.integers(min_value=0, max_value=3000))
def test_allocation_meets_the_size_whenever_the_audience_allows(cells: dict[str, tuple[float, int]], size: int) -> None:
    weights = {stratum: weight for stratum, (weight, _) in cells.items()}
    available = {stratum: count for stratum, (_, count) in cells.items()}
    allocation = allocate(size, weights, available)
    assert allocation.allocated == min(size, sum(available.values()))
    assert sum(q.wanted for q in allocation.strata) == size
    for quota in allocation.strata:
        assert 0 <= quota.allocated <= quota.available
        assert quota.allocated >= min(quota.wanted, quota.available)  # a spread only ever adds
        if quota.short:
            assert quota.allocated == quota.available  # a short stratum takes all it has
