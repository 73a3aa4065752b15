"""The in-process send-rate limiter on an injected clock: exact, instant, and checked window by window."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outreach.outbound.rate_limits import (
    TELEGRAM_BOT_KEY,
    GcraLimiter,
    Item,
    Lateness,
    Rate,
    RatePolicy,
    Reservation,
    address_tag,
    send_keys,
    standard_policy,
)
from outreach.outbound.rate_limits_redis import RedisRateLimiter, build_rate_limiter

# Slots are sums of float intervals: 10 × 0.1 can come out as 0.9999999999999999. A window is
# [t, t + width - EPS), so rounding a billionth of a second is not mistaken for an extra send.
EPS = 1e-9


class FakeTime:
    """Monotonic seconds that move only when the limiter sleeps (one sender at a time)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def max_in_window(times: Sequence[float], costs: Sequence[float], width: float) -> float:
    """The largest total cost in any half-open window [t, t + width) (the maximum starts at an event)."""
    events = sorted(zip(times, costs, strict=True))
    best, total, end = 0.0, 0.0, 0
    for start, (t, _) in enumerate(events):
        while end < len(events) and events[end][0] < t + width - EPS:
            total += events[end][1]
            end += 1
        best = max(best, total)
        total -= events[start][1]
    return best


async def run_sequential(limiter: GcraLimiter, clock: FakeTime, items: Sequence[Sequence[Item]]) -> list[float]:
    """One sender that always has work: acquire, send at once, next. The send times."""
    sent = []
    for request in items:
        await limiter.acquire_all(request)
        sent.append(clock())
    return sent


def limiter_for(rates: dict[str, Rate], clock: FakeTime) -> GcraLimiter:
    return GcraLimiter(RatePolicy(rates), clock=clock, sleep=clock.sleep)


# --- rates and policies -----------------------------------------------------------------------


@pytest.mark.parametrize("per_second", [0.0, -1.0, math.inf, math.nan])
def test_a_rate_is_positive_and_finite(per_second: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        Rate(per_second)


def test_rate_units() -> None:
    assert Rate.per_minute(60).per_second == pytest.approx(1.0)
    assert Rate(10).interval == pytest.approx(0.1)
    scaled = Rate(10, burst=2).with_headroom(0.98)
    assert scaled.per_second == pytest.approx(9.8) and scaled.burst == 2
    with pytest.raises(ValueError, match="burst"):
        Rate(10, burst=0)
    with pytest.raises(ValueError, match="headroom"):
        Rate(10).with_headroom(1.5)


def test_the_longest_prefix_wins_and_unknown_keys_are_unlimited() -> None:
    policy = RatePolicy({"telegram:": Rate(30), "telegram:chat:": Rate(1)})
    assert policy.rate_for("telegram:bot") == Rate(30)
    assert policy.rate_for("telegram:chat:42") == Rate(1)
    assert policy.rate_for("sms:+48500100100") is None
    with pytest.raises(ValueError, match="empty prefix"):
        RatePolicy({"": Rate(1)})


def test_standard_policy_counts_what_each_provider_counts() -> None:
    policy = standard_policy(headroom=1.0)
    assert policy.rate_for("sms:+48500100100") == Rate(10)
    assert policy.rate_for(TELEGRAM_BOT_KEY) == Rate(30)
    assert policy.rate_for("telegram:chat:abc") == Rate(1)
    assert policy.rate_for("email:smtp.gdansk.gda.pl") == Rate.per_minute(60)
    assert policy.rate_for("whatsapp:+48500100100") is None  # unlimited unless configured
    scaled = standard_policy(sms_segments_per_second=5, whatsapp_per_second=20, headroom=0.98)
    assert [scaled.rate_for(key) for key in ("sms:x", "whatsapp:x")] == [Rate(5 * 0.98), Rate(20 * 0.98)]


def test_send_keys_per_channel_never_carry_an_address() -> None:
    assert send_keys("sms", sender="+48500100100", address="+48600100200", cost=3) == [("sms:+48500100100", 3)]
    telegram = send_keys("telegram", sender="bot", address="123456789")
    assert telegram == [(TELEGRAM_BOT_KEY, 1.0), ("telegram:chat:" + address_tag("123456789"), 1.0)]
    assert "123456789" not in repr(telegram)
    assert address_tag("123456789", b"secret") != address_tag("123456789")
    assert send_keys("email", sender="relay", address="a@example.org") == [("email:relay", 1.0)]
    assert send_keys("whatsapp", sender="+48500", address="+48600") == [("whatsapp:+48500", 1.0)]
    assert send_keys("sandbox", sender="x", address="y") == []


async def test_build_picks_redis_when_a_url_is_set_and_one_process_otherwise() -> None:
    policy = standard_policy()
    assert isinstance(build_rate_limiter(None, policy), GcraLimiter)
    shared = build_rate_limiter("redis://127.0.0.1:6379/0", policy, prefix="outreach-test:")
    assert isinstance(shared, RedisRateLimiter)  # no connection is made until the first acquire
    await shared.close()


# --- the limiter on a fake clock --------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "count", "width", "most_in_window", "last_send"),
    [
        (Rate(10), 1000, 1.0, 10, 99.9),  # an SMS long code, one-segment messages
        (Rate(30), 900, 1.0, 30, 899 / 30),  # the Telegram bot overall
        (Rate(1), 20, 1.0, 1, 19.0),  # one Telegram chat
        (Rate.per_minute(60), 150, 60.0, 60, 149.0),  # an SMTP relay per minute
        (Rate(2.5), 100, 1.0, 3, 39.6),  # a fractional rate: at most ⌈W·r⌉ in a window
        (Rate(1, burst=5), 50, 1.0, 5, 45.0),  # burst B: B at once, then W·r + B - 1 per window
    ],
)
async def test_one_sender_with_work_waiting_meets_the_rate_exactly(
    rate: Rate, count: int, width: float, most_in_window: int, last_send: float
) -> None:
    clock = FakeTime()
    limiter = limiter_for({"k": rate}, clock)
    sent = await run_sequential(limiter, clock, [[("k", 1.0)]] * count)
    assert max_in_window(sent, [1.0] * count, width) == most_in_window
    assert sent[-1] == pytest.approx(last_send)
    assert sent == sorted(sent)


async def test_a_thousand_sms_at_ten_per_second_take_99_9_seconds() -> None:
    clock = FakeTime()
    limiter = limiter_for({"sms:": Rate(10)}, clock)
    sent = await run_sequential(limiter, clock, [[("sms:+48500100100", 1)]] * 1000)
    assert sent[0] == 0.0 and sent[-1] >= 99.9 - EPS
    assert max_in_window(sent, [1] * 1000, 1.0) <= 10
    gaps = [b - a for a, b in itertools.pairwise(sent)]
    assert min(gaps) == pytest.approx(0.1) and max(gaps) == pytest.approx(0.1)


@pytest.mark.parametrize(("headroom", "expected"), [(1.0, 600), (0.98, 588)])
async def test_utilisation_over_a_minute_with_work_always_waiting(headroom: float, expected: int) -> None:
    clock = FakeTime()
    limiter = GcraLimiter(standard_policy(headroom=headroom), clock=clock, sleep=clock.sleep)
    sent = await run_sequential(limiter, clock, [[("sms:+48500100100", 1)]] * 700)
    in_first_minute = sum(1 for t in sent if t < 60.0 - EPS)
    assert in_first_minute == expected
    assert in_first_minute / (60 * 10) >= 0.95
    assert max_in_window(sent, [1] * len(sent), 1.0) <= 10


async def test_concurrent_senders_queue_in_arrival_order_without_retrying() -> None:
    clock = FakeTime()
    waits: list[float] = []

    async def record(seconds: float) -> None:  # everyone asks at t=0: each gets its own slot
        waits.append(seconds)

    limiter = GcraLimiter(RatePolicy({"k": Rate(10)}), clock=clock, sleep=record)
    grants = await asyncio.gather(*(limiter.acquire("k") for _ in range(50)))
    assert [grant.slot for grant in grants] == pytest.approx([n / 10 for n in range(50)])
    assert waits == pytest.approx([n / 10 for n in range(1, 50)])  # one sleep each, no retries
    assert all(grant.granted for grant in grants)


def test_multi_segment_sms_goes_when_the_number_is_idle_then_holds_it() -> None:
    limiter = GcraLimiter(RatePolicy({"sms:": Rate(10)}))
    slots = [limiter.reserve([("sms:a", 3)], now=0.0).slot for _ in range(4)]
    assert slots == pytest.approx([0.0, 0.3, 0.6, 0.9])
    # counted as the provider releases segments (one per 0.1 s), no window holds more than 10
    segments = [slot + k * 0.1 for slot in slots for k in range(3)]
    assert max_in_window(segments, [1] * len(segments), 1.0) == 10
    # counted as whole messages on arrival: W·r + cost - 1
    assert max_in_window(slots, [3] * len(slots), 1.0) == 12


def test_burst_lets_an_idle_key_send_at_once() -> None:
    limiter = GcraLimiter(RatePolicy({"k": Rate(1, burst=3)}))
    waits = [limiter.reserve([("k", 1)], now=0.0).wait for _ in range(5)]
    assert waits == pytest.approx([0, 0, 0, 1, 2])
    assert limiter.reserve([("k", 1)], now=10.0).wait == 0  # idle again: the burst is back


def test_delay_looks_without_reserving() -> None:
    limiter = GcraLimiter(RatePolicy({"k": Rate(10)}), clock=lambda: 0.0)
    assert limiter.delay("k") == 0.0
    limiter.reserve([("k", 1)], now=0.0)
    assert limiter.delay("k") == pytest.approx(0.1)
    assert limiter.delay("k") == pytest.approx(0.1)
    assert limiter.delay("k", now=0.05) == pytest.approx(0.05)
    assert limiter.delay("other") == 0.0


async def test_unlimited_keys_and_zero_costs_never_wait_and_negative_costs_are_refused() -> None:
    clock = FakeTime()
    limiter = limiter_for({"k": Rate(1)}, clock)
    for _ in range(5):
        await limiter.acquire("unknown:key", 100)
        await limiter.acquire("k", 0)
    assert clock.sleeps == [] and len(limiter) == 0
    with pytest.raises(ValueError, match="non-negative"):
        await limiter.acquire("k", -1)
    with pytest.raises(ValueError, match="non-negative"):
        await limiter.acquire("k", math.nan)


def test_a_key_named_twice_counts_once_with_both_costs() -> None:
    limiter = GcraLimiter(RatePolicy({"k": Rate(10)}))
    limiter.reserve([("k", 1), ("k", 2)], now=0.0)
    assert limiter.delay("k", now=0.0) == pytest.approx(0.3)


def test_a_second_message_to_one_chat_waits_without_stalling_the_bot() -> None:
    limiter = GcraLimiter(standard_policy(headroom=1.0))
    alice = send_keys("telegram", sender="bot", address="1001")
    first = limiter.reserve(alice, now=0.0)
    assert first.granted and first.slot == 0.0
    second = limiter.reserve(alice, now=0.0)
    # alice's chat is busy for a second: nothing is reserved, the bot's capacity stays free
    assert not second.granted and second.wait == pytest.approx(1.0)
    others = [limiter.reserve(send_keys("telegram", sender="bot", address=str(n)), now=0.0) for n in range(29)]
    assert [grant.slot for grant in others] == pytest.approx([(n + 1) / 30 for n in range(29)])
    retry = limiter.reserve(alice, now=second.wait, may_defer=False)
    assert retry.granted and retry.slot == pytest.approx(1.0)


def test_a_chat_waiting_behind_a_long_bot_queue_reserves_at_once() -> None:
    limiter = GcraLimiter(standard_policy(headroom=1.0))
    for _ in range(60):  # two seconds of the bot reserved
        limiter.reserve([(TELEGRAM_BOT_KEY, 1)], now=0.0)
    grant = limiter.reserve(send_keys("telegram", sender="bot", address="1001"), now=0.0)
    assert grant.granted and grant.slot == pytest.approx(2.0)  # the chat idles: nobody else needs it


def test_the_retry_reserves_even_when_still_behind_so_nobody_starves() -> None:
    limiter = GcraLimiter(RatePolicy({"a": Rate(10), "b": Rate(1)}))
    limiter.reserve([("b", 1)], now=0.0)
    assert not limiter.reserve([("a", 1), ("b", 1)], now=0.0).granted
    forced = limiter.reserve([("a", 1), ("b", 1)], now=0.0, may_defer=False)
    assert forced.granted and forced.slot == pytest.approx(1.0)
    assert limiter.delay("a", now=0.0) == pytest.approx(1.1)  # the gap on "a" is the price of the grant


async def test_acquire_all_sleeps_through_a_deferral_then_sends() -> None:
    clock = FakeTime()
    limiter = GcraLimiter(standard_policy(headroom=1.0), clock=clock, sleep=clock.sleep)
    alice = send_keys("telegram", sender="bot", address="1001")
    await limiter.acquire_all(alice)
    grant = await limiter.acquire_all(alice)
    assert grant.granted and clock.now == pytest.approx(1.0) and clock.sleeps == pytest.approx([1.0])


def test_idle_keys_are_pruned_and_pruning_changes_no_slot() -> None:
    policy = standard_policy(headroom=1.0)
    pruned = GcraLimiter(policy, prune_every=100)
    kept = GcraLimiter(policy, prune_every=10**9)
    for n in range(10_000):  # each chat once, at 30/s
        now = n / 30
        request = send_keys("telegram", sender="bot", address=str(n % 2500))
        assert pruned.reserve(request, now=now) == kept.reserve(request, now=now)
    assert len(kept) == 2501
    assert len(pruned) <= 100 + 2  # the chats of the last second or so, and the bot


async def test_a_sender_woken_late_takes_a_new_slot_instead_of_bunching() -> None:
    clock = FakeTime()
    overshoot = [0.05]  # the event loop stalls once: this sleeper wakes 50 ms after its slot

    async def sleep(seconds: float) -> None:
        clock.now += seconds + (overshoot.pop() if overshoot else 0.0)

    limiter = GcraLimiter(RatePolicy({"k": Rate(10)}), clock=clock, sleep=sleep)
    first = await limiter.acquire("k")
    second = await limiter.acquire("k")
    assert first.slot == 0.0 and clock.now == pytest.approx(0.2)
    assert second.slot == pytest.approx(0.2)  # 0.1 was given up: it would have gone at 0.15
    assert limiter.late_slots == 1


async def test_a_late_sender_whose_chat_slot_is_spent_waits_for_its_chat_without_stalling_the_bot() -> None:
    clock = FakeTime()
    overshoot = [0.05]  # the event loop stalls once (a garbage collection): the sender wakes 50 ms late
    bot_waits: list[float] = []  # what a send to another chat would wait, at each later sleep

    async def sleep(seconds: float) -> None:
        if not overshoot:
            bot_waits.append(limiter.delay(TELEGRAM_BOT_KEY, now=clock.now))
        clock.now += seconds + (overshoot.pop() if overshoot else 0.0)

    limiter = GcraLimiter(standard_policy(headroom=1.0), clock=clock, sleep=sleep)
    limiter.reserve([(TELEGRAM_BOT_KEY, 1)], now=0.0)  # the bot is busy: the sender sleeps for its slot
    grant = await limiter.acquire_all(send_keys("telegram", sender="bot", address="4242"))
    # The slot given up spent the chat's second: the next one is a second later. Reserving the bot then
    # too would leave it idle for that second; the sender waits for its chat first, the bot stays free.
    assert grant.slot == pytest.approx(1 / 30 + 1.0)
    assert bot_waits and max(bot_waits) <= 1 / 30
    assert limiter.late_slots == 1


async def test_a_sender_with_a_lead_wakes_before_its_slot_and_waits_the_rest_itself() -> None:
    clock = FakeTime()
    limiter = limiter_for({"k": Rate(10)}, clock)
    await limiter.acquire("k")  # the slot at 0; the next is at 0.1
    grant = await limiter.acquire_all([("k", 1)], lead=0.03)
    assert clock.now == pytest.approx(0.07)  # woken 30 ms ahead (the start is recorded meanwhile)
    assert grant.slot == pytest.approx(0.1) and limiter.late_slots == 0
    clock.now += 0.02  # the work before the request took 20 ms
    assert await limiter.until_slot(grant) == 0.0  # on time: it waited the last 10 ms
    assert clock.now == pytest.approx(0.1) and clock.sleeps[-1] == pytest.approx(0.01)


@pytest.mark.parametrize(("work_seconds", "behind"), [(0.03, 0.0), (0.045, 0.015)])
async def test_until_slot_says_how_late_the_work_before_the_request_made_it(work_seconds: float, behind: float) -> None:
    clock = FakeTime()
    limiter = limiter_for({"k": Rate(10)}, clock)
    await limiter.acquire("k")
    grant = await limiter.acquire_all([("k", 1)], lead=0.03)
    clock.now += work_seconds
    assert await limiter.until_slot(grant) == pytest.approx(behind)
    assert clock.now == pytest.approx(0.07 + work_seconds)  # no sleep once the slot is here or past


async def test_a_lead_longer_than_the_wait_returns_at_once_and_is_not_late() -> None:
    clock = FakeTime()
    limiter = limiter_for({"k": Rate(10)}, clock)
    await limiter.acquire("k")
    clock.now = 0.09  # the next slot (0.1) is 10 ms away, inside the lead
    grant = await limiter.acquire_all([("k", 1)], lead=0.03)
    assert clock.now == 0.09 and grant.slot == pytest.approx(0.1) and limiter.late_slots == 0
    assert await limiter.until_slot(grant) == 0.0 and clock.now == pytest.approx(0.1)


@pytest.mark.parametrize(("lateness", "late_slots", "sent_at"), [(Lateness(), 3, 0.45), (Lateness(None), 0, 0.15)])
async def test_a_starved_sender_gives_up_only_a_few_slots(lateness: Lateness, late_slots: int, sent_at: float) -> None:
    clock = FakeTime()

    async def sleep(seconds: float) -> None:  # every wake-up is 50 ms late
        clock.now += seconds + 0.05

    limiter = GcraLimiter(RatePolicy({"k": Rate(10)}), clock=clock, sleep=sleep, lateness=lateness)
    await limiter.acquire("k")
    await limiter.acquire("k")
    assert limiter.late_slots == late_slots and clock.now == pytest.approx(sent_at)


# --- properties over random rates, costs and arrival patterns ------------------------------------


def simulate(limiter: GcraLimiter, requests: Sequence[tuple[float, Sequence[Item]]]) -> list[Reservation]:
    """Every request at its arrival time, a deferred one again after its wait (as acquire_all does),
    in time order: the granted reservation of each."""
    queue = [(arrival, n, True) for n, (arrival, _) in enumerate(requests)]
    heapq.heapify(queue)
    granted: dict[int, Reservation] = {}
    while queue:
        now, n, may_defer = heapq.heappop(queue)
        reservation = limiter.reserve(requests[n][1], now, may_defer=may_defer)
        assert reservation.slot >= now and reservation.wait == pytest.approx(reservation.slot - now)
        if reservation.granted:
            granted[n] = reservation
        else:
            assert may_defer, "a retry is always granted"
            heapq.heappush(queue, (now + reservation.wait, n, False))
    return [granted[n] for n in range(len(requests))]


KEYS = ["a", "b", "c"]
rates = st.builds(
    Rate,
    per_second=st.floats(min_value=0.2, max_value=60, allow_nan=False),
    burst=st.one_of(st.just(1.0), st.floats(min_value=0.5, max_value=6)),
)
whole_costs = st.integers(min_value=1, max_value=5).map(float)
any_costs = st.one_of(whole_costs, st.floats(min_value=0.05, max_value=4))


@st.composite
def scenarios(
    draw: st.DrawFn, costs: st.SearchStrategy[float] = any_costs, unit_burst: bool = False
) -> tuple[dict[str, Rate], list[tuple[float, list[Item]]]]:
    policy = {key: draw(rates) for key in KEYS}
    if unit_burst:
        policy = {key: Rate(rate.per_second) for key, rate in policy.items()}
    gaps = draw(st.lists(st.one_of(st.just(0.0), st.floats(0, 2)), min_size=1, max_size=60))
    arrivals = [sum(gaps[: n + 1]) for n in range(len(gaps))]
    requests = []
    for arrival in arrivals:
        keys = draw(st.lists(st.sampled_from(KEYS), min_size=1, max_size=3, unique=True))
        requests.append((arrival, [(key, draw(costs)) for key in keys]))
    return policy, requests


def sends_per_key(
    requests: Sequence[tuple[float, Sequence[Item]]], grants: Sequence[Reservation]
) -> dict[str, list[tuple[float, float]]]:
    sends: dict[str, list[tuple[float, float]]] = {key: [] for key in KEYS}
    for (_, items), grant in zip(requests, grants, strict=True):
        for key, cost in items:
            sends[key].append((grant.slot, cost))
    return sends


@settings(max_examples=300, deadline=None, database=None)
@given(scenarios(), st.sampled_from([0.5, 1.0, 3.0]))
def test_no_window_ever_holds_more_than_gcra_allows(
    scenario: tuple[dict[str, Rate], list[tuple[float, list[Item]]]], width: float
) -> None:
    policy, requests = scenario
    grants = simulate(GcraLimiter(RatePolicy(policy)), requests)
    for key, sends in sends_per_key(requests, grants).items():
        if not sends:
            continue
        rate = policy[key]
        bound = width * rate.per_second + max(rate.burst, max(cost for _, cost in sends))
        times, costs = zip(*sends, strict=True)
        assert max_in_window(times, costs, width) < bound + 1e-6


@settings(max_examples=300, deadline=None, database=None)
@given(scenarios(costs=whole_costs, unit_burst=True))
def test_counted_as_the_provider_releases_units_every_unit_is_one_interval_apart(
    scenario: tuple[dict[str, Rate], list[tuple[float, list[Item]]]],
) -> None:
    """Burst 1, whole costs: unit k of a send at s leaves at s + k·T; all units of a key are ≥ T apart,
    so any one-second window holds at most ⌈r⌉ units: the literal limit for whole-number rates."""
    policy, requests = scenario
    grants = simulate(GcraLimiter(RatePolicy(policy)), requests)
    for key, sends in sends_per_key(requests, grants).items():
        interval = policy[key].interval
        units = sorted(slot + k * interval for slot, cost in sends for k in range(int(cost)))
        gaps = [b - a for a, b in itertools.pairwise(units)]
        assert all(gap >= interval * (1 - 1e-9) - EPS for gap in gaps)
        assert max_in_window(units, [1.0] * len(units), 1.0) <= math.ceil(policy[key].per_second - EPS)


@settings(max_examples=200, deadline=None, database=None)
@given(
    st.integers(min_value=1, max_value=50),
    st.lists(whole_costs, min_size=1, max_size=80),
)
def test_with_work_always_waiting_the_rate_is_used_in_full(per_second: int, costs: list[float]) -> None:
    limiter = GcraLimiter(RatePolicy({"k": Rate(per_second)}))
    slots = [limiter.reserve([("k", cost)], now=0.0).slot for cost in costs]
    expected = [sum(costs[:n]) / per_second for n in range(len(costs))]
    assert slots == pytest.approx(expected)
    unit_costs_only = [1.0] * len(costs)
    unit_limiter = GcraLimiter(RatePolicy({"k": Rate(per_second)}))
    unit_slots = [unit_limiter.reserve([("k", cost)], now=0.0).slot for cost in unit_costs_only]
    assert max_in_window(unit_slots, unit_costs_only, 1.0) <= per_second
