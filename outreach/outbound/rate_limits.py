"""Send-rate limits per sender and channel, counted in what the provider counts.

A limit belongs to a key ("sms:+48500100100", "telegram:bot", "telegram:chat:<hash>", "email:<relay>")
and is a `Rate` found by the key's longest matching prefix in a `RatePolicy`; a key no prefix matches
is unlimited. `acquire(key, cost)` waits until `cost` units (SMS segments, messages) may go, and
`acquire_all([(key, cost), …])` does the same for a send that counts against several keys (Telegram:
the bot overall and the chat).

Algorithm: GCRA (the generic cell rate algorithm, a token bucket kept as one number per key: the
theoretical arrival time TAT), used to *reserve* slots. With emission interval T = 1/rate, burst B and
a request of cost c at time `now` on a key whose TAT is `tat`:

    earliest = max(now, tat - (max(B, c) - c)·T)        # when this request conforms
    slot     = max(earliest over the request's keys)    # when it may go
    tat     := max(slot, tat) + c·T                     # what it uses

The caller sleeps until its slot and sends: no retry loop, no thundering herd, and waiting senders
queue in arrival order. The same arithmetic runs in-process (`GcraLimiter`, one process) and as one
Lua script in Redis (`RedisRateLimiter` in outreach.outbound.rate_limits_redis, shared by every worker,
on the Redis server's clock).

Window guarantee (what "burst" means). Let r = rate and W a window length. Slots on one key are
non-decreasing in reservation order and each reservation moves TAT past `slot + c·T`, so for the
sends whose slots lie in any half-open window [t, t+W):

    Σ cost < W·r + max(B, largest cost)

With burst B = 1 (the default) and unit costs (Telegram, email) that is at most ⌈W·r⌉ sends: at or under
W·r whenever W·r is a whole number, which is the literal "any sliding one-second window stays at or
under the limit". A larger B lets an idle key send B units at once, and a window then holds up to
W·r + B − 1. A send that costs more than B (a 3-segment SMS on a 10 segments/s number) cannot be split
by us: it goes when the key is idle and then holds the key for c·T. Counted as the provider counts it
(Twilio releases the segments of a long SMS one by one from its sender queue: segment k of a send at
s leaves at s + k·T), every window again holds at most ⌈W·r⌉ segments; counted as whole messages on
arrival, a window can hold up to W·r + c − 1 segments (12 at 10/s with 3-segment messages), which no
indivisible schedule avoids without giving up throughput (three 3-segment messages per second would
be 90%).

Utilisation: under load a key's slots are exactly c·T apart (TAT never falls behind `now`), so with
work always waiting a key is used at 100% of its rate.

Jitter: sends reach the provider a little after their slot (the event loop's wake-up, the HTTP
request); a send delayed by more than a later one can land in the same window as one slot too many.
Two guards: `Rate.with_headroom(0.98)` absorbs up to W·(1/0.98 − 1) ≈ 20 ms of such difference per
one-second window and keeps 98% of the limit; and a sender that wakes more than `late_after` (10 ms)
after its slot (a stalled event loop, a busy CPU: every sleeper then wakes at once) does not send on
that slot but reserves a new one, up to `max_late` times, then sends anyway so that a starved process
still makes progress. An abandoned slot stays unused: capacity lost, never over-used. The new
reservation may defer once more (below): the abandoned slot spent its slow keys' units too.

Lead: a sender with work that must precede its request (the dispatcher records the send's start in the
database) asks to be woken `lead` seconds before its slot, does that work, and waits the rest itself
(`until_slot`); woken at the slot, a few milliseconds of such work made it late, and a late sender
gives its slot up. Only a wake-up after the slot (and `late_after`) counts as late here; `until_slot`
says how late the work made it.

Several keys at once (`acquire_all`): each attempt is atomic (one synchronous step in-process, one
Lua call in Redis) and reserves the same slot on every key, so no key is ever over-used. Reserving a
slot that a slow key pushed far into the future would leave the earlier capacity of a faster key idle
(a resident's second message within a second would stall the whole bot for a second). So when the
key that sets the slot (the latest) would make a key of a higher rate idle for more than one of that
key's intervals, the first attempt reserves nothing and says how long to wait; the second attempt,
after that wait, reserves whatever the slot: at most one deferral per reservation (and a sender
takes at most `max_late` new reservations), so nobody starves. A slow key left
idle (a chat waiting behind the bot's queue) costs nothing: rarely does anyone else share it.

A cancelled waiter keeps its reserved slot: that capacity goes unused (never over-used).
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Protocol

MonotonicClock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
Item = tuple[str, float]  # (key, cost)


@dataclass(frozen=True)
class Rate:
    """`per_second` units per second; `burst` units may go at once from an idle key (see the module
    docstring for what that means for a sliding window)."""

    per_second: float
    burst: float = 1.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.per_second) and self.per_second > 0):
            raise ValueError(f"a rate must be a positive number per second, not {self.per_second!r}")
        if not (math.isfinite(self.burst) and self.burst > 0):
            raise ValueError(f"a burst must be a positive number of units, not {self.burst!r}")

    @classmethod
    def per_minute(cls, count: float, burst: float = 1.0) -> Rate:
        return cls(count / 60.0, burst)

    @property
    def interval(self) -> float:
        """Seconds one unit occupies (the emission interval T)."""
        return 1.0 / self.per_second

    def with_headroom(self, fraction: float) -> Rate:
        """This rate scaled down to `fraction` of itself, to absorb delivery jitter (module docstring)."""
        if not 0 < fraction <= 1:
            raise ValueError("headroom is a fraction in (0, 1]")
        return Rate(self.per_second * fraction, self.burst)


class RatePolicy:
    """Rates by key prefix; the longest matching prefix wins and a key no prefix matches is unlimited.
    Each distinct key has its own bucket: the prefix "telegram:chat:" gives every chat its 1/s."""

    def __init__(self, rates: Mapping[str, Rate]) -> None:
        if any(not prefix for prefix in rates):
            raise ValueError("an empty prefix would limit every key; name the keys")
        self._rates = dict(rates)
        self._by_length = sorted(self._rates, key=len, reverse=True)

    def rate_for(self, key: str) -> Rate | None:
        for prefix in self._by_length:
            if key.startswith(prefix):
                return self._rates[prefix]
        return None

    @property
    def rates(self) -> Mapping[str, Rate]:
        return dict(self._rates)


# Keys for the outreach channels (`send_keys` builds them; the prefixes below limit them).
SMS_PREFIX = "sms:"
WHATSAPP_PREFIX = "whatsapp:"
TELEGRAM_BOT_KEY = "telegram:bot"
TELEGRAM_CHAT_PREFIX = "telegram:chat:"
EMAIL_PREFIX = "email:"


def standard_policy(
    *,
    sms_segments_per_second: float = 10.0,
    telegram_per_second: float = 30.0,
    telegram_per_chat_per_second: float = 1.0,
    email_per_minute: float = 60.0,
    whatsapp_per_second: float | None = None,
    headroom: float = 0.98,
) -> RatePolicy:
    """The outreach limits (from settings): SMS in segments per second per sender, Telegram overall
    and per chat, email per minute per relay, WhatsApp per sender when given. Every rate is scaled by
    `headroom` so that jitter between a slot and the provider's receipt does not break a window."""
    rates = {
        SMS_PREFIX: Rate(sms_segments_per_second),
        TELEGRAM_BOT_KEY: Rate(telegram_per_second),
        TELEGRAM_CHAT_PREFIX: Rate(telegram_per_chat_per_second),
        EMAIL_PREFIX: Rate.per_minute(email_per_minute),
    }
    if whatsapp_per_second is not None:
        rates[WHATSAPP_PREFIX] = Rate(whatsapp_per_second)
    return RatePolicy({prefix: rate.with_headroom(headroom) for prefix, rate in rates.items()})


def address_tag(address: str, secret: bytes = b"") -> str:
    """A short keyed hash of an address for a rate-limit key: Redis and logs never hold a chat id or a
    phone number. Every worker must use the same `secret` (or none) to share a per-address limit."""
    return hashlib.blake2b(address.encode(), key=secret[:64], digest_size=10).hexdigest()


def send_keys(channel: str, *, sender: str, address: str, cost: float = 1.0, secret: bytes = b"") -> list[Item]:
    """The (key, cost) pairs one send counts against.

    sms: the sender (From number or Messaging Service SID), cost = the body's segments;
    whatsapp: the sender, one message; telegram: the bot overall and the chat, one message each;
    email: the relay (`sender` names it), one message. Other channels: none (unlimited).
    """
    if channel == "sms":
        return [(SMS_PREFIX + sender, cost)]
    if channel == "whatsapp":
        return [(WHATSAPP_PREFIX + sender, cost)]
    if channel == "telegram":
        return [(TELEGRAM_BOT_KEY, cost), (TELEGRAM_CHAT_PREFIX + address_tag(address, secret), cost)]
    if channel == "email":
        return [(EMAIL_PREFIX + sender, cost)]
    return []


@dataclass(frozen=True)
class Reservation:
    """One attempt: `granted` (the slot is reserved on every key) or deferred (nothing reserved; try
    again after `wait`). `slot` is on the limiter's clock (monotonic seconds in-process, the Redis
    server's clock in Redis); `wait` is `slot` minus that clock's now. `due`: the slot on this process's
    monotonic clock, set by `acquire_all` (a bare attempt leaves it None)."""

    granted: bool
    wait: float
    slot: float
    due: float | None = None


class RateLimiter(Protocol):
    async def acquire(self, key: str, cost: float = 1.0) -> Reservation:
        """Wait until `cost` units may go on `key`; the granted reservation."""
        ...

    async def acquire_all(self, items: Iterable[Item], *, lead: float = 0.0) -> Reservation:
        """Wait until every (key, cost) may go at one moment, or until `lead` seconds before it (the
        caller, having done what must precede the send, waits the rest: `until_slot`); the granted
        reservation."""
        ...

    async def until_slot(self, reservation: Reservation) -> float:
        """Sleep until a reservation's slot if it is still ahead; how late for it we are now (0 or more
        seconds), on this limiter's clock."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class _Need:
    key: str
    interval: float
    cost: float
    burst: float


def limited_needs(policy: RatePolicy, items: Iterable[Item]) -> list[_Need]:
    """The limited keys of a request, a key named twice counted once with the summed cost."""
    costs: dict[str, float] = {}
    for key, cost in items:
        if not (math.isfinite(cost) and cost >= 0):
            raise ValueError(f"a cost is a non-negative number of units, not {cost!r}")
        costs[key] = costs.get(key, 0.0) + cost
    needs = []
    for key, cost in costs.items():
        rate = policy.rate_for(key)
        if rate is not None and cost > 0:
            needs.append(_Need(key, rate.interval, cost, rate.burst))
    return needs


@dataclass(frozen=True)
class Lateness:
    """A sender that wakes more than `late_after` seconds after its slot reserves a new slot instead,
    at most `max_late` times in a row (module docstring); None turns the check off."""

    late_after: float | None = 0.010
    max_late: int = 3


DEFAULT_LATENESS = Lateness()


class SlotWaiter:
    """The waiting both limiters share: for the slot (or `lead` before it), and again when woken late."""

    def __init__(self, clock: MonotonicClock, sleep: Sleep, lateness: Lateness) -> None:
        self.clock = clock
        self.sleep = sleep
        self.lateness = lateness
        self.late_slots = 0  # slots given up because the sender woke too late

    async def wait_for_grant(self, attempt: Callable[[bool], Awaitable[Reservation]], lead: float = 0.0) -> Reservation:
        """Reserve (deferring at most once), sleep until `lead` before the slot, and take a new slot when
        woken after the slot (and its tolerance) passed."""
        may_defer, late = True, 0
        while True:
            reservation = await attempt(may_defer)
            due = self.clock() + reservation.wait  # the slot on this process's clock
            pause = reservation.wait - lead if reservation.granted else reservation.wait
            if pause > 0:
                await self.sleep(pause)
            if not reservation.granted:
                may_defer = False
                continue
            limit = self.lateness.late_after
            if limit is not None and late < self.lateness.max_late and self.clock() - due > limit:
                late += 1
                self.late_slots += 1
                # A new reservation may defer once again: the slot given up spent a slow key's unit (a
                # chat's second), and reserving the fast key (the bot) that far ahead would idle it.
                may_defer = True
                continue
            return replace(reservation, due=due)

    async def until_slot(self, reservation: Reservation) -> float:
        if reservation.due is None:
            return 0.0
        ahead = reservation.due - self.clock()
        if ahead > 0:
            await self.sleep(ahead)
            return 0.0
        return -ahead


class GcraLimiter:
    """The limits in one process: one TAT per key in a dict, on an injected monotonic clock and sleep.

    Keys whose TAT has passed hold nothing (an absent key is an idle key), so every `prune_every`
    reservations they are dropped: memory follows the keys busy right now, not every chat ever seen.
    """

    def __init__(
        self,
        policy: RatePolicy,
        *,
        clock: MonotonicClock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        prune_every: int = 1_000,
        lateness: Lateness = DEFAULT_LATENESS,
    ) -> None:
        self._policy = policy
        self._clock = clock
        self._waiter = SlotWaiter(clock, sleep, lateness)
        self._tat: dict[str, float] = {}
        self._prune_every = prune_every
        self._since_prune = 0

    def __len__(self) -> int:
        """How many keys are tracked (busy keys, plus idle ones not pruned yet)."""
        return len(self._tat)

    @property
    def late_slots(self) -> int:
        """Slots given up because a sender woke too late (a measure of event-loop stalls)."""
        return self._waiter.late_slots

    def reserve(self, items: Iterable[Item], now: float, *, may_defer: bool = True) -> Reservation:
        """One atomic attempt at `now` (the pure step the tests drive): reserve the common slot on every
        key, or, when `may_defer` and a faster key would idle for more than one of its intervals behind
        a slower one, reserve nothing (module docstring)."""
        needs = limited_needs(self._policy, items)
        tats = [max(self._tat.get(need.key, now), now) for need in needs]
        earliest = [
            tat - (max(need.burst, need.cost) - need.cost) * need.interval
            for need, tat in zip(needs, tats, strict=True)
        ]
        slot = max([now, *earliest])
        if may_defer and needs:
            binding = needs[max(range(len(needs)), key=earliest.__getitem__)]
            if any(
                need.interval < binding.interval and slot - max(first, now) > need.interval
                for need, first in zip(needs, earliest, strict=True)
            ):
                return Reservation(granted=False, wait=slot - now, slot=slot)
        for need, tat in zip(needs, tats, strict=True):
            self._tat[need.key] = max(slot, tat) + need.cost * need.interval
        self._since_prune += 1
        if self._since_prune >= self._prune_every:
            self.prune(now)
        return Reservation(granted=True, wait=slot - now, slot=slot)

    def delay(self, key: str, cost: float = 1.0, now: float | None = None) -> float:
        """Seconds a send of `cost` on `key` would wait at `now`, without reserving anything."""
        now = self._clock() if now is None else now
        needs = limited_needs(self._policy, [(key, cost)])
        if not needs:
            return 0.0
        need = needs[0]
        tat = max(self._tat.get(key, now), now)
        return max(0.0, tat - (max(need.burst, need.cost) - need.cost) * need.interval - now)

    def prune(self, now: float) -> None:
        """Forget idle keys (TAT at or before `now`): absent and idle are the same state."""
        self._tat = {key: tat for key, tat in self._tat.items() if tat > now}
        self._since_prune = 0

    async def acquire(self, key: str, cost: float = 1.0) -> Reservation:
        return await self.acquire_all([(key, cost)])

    async def acquire_all(self, items: Iterable[Item], *, lead: float = 0.0) -> Reservation:
        request = list(items)

        async def attempt(may_defer: bool) -> Reservation:
            return self.reserve(request, self._clock(), may_defer=may_defer)

        return await self._waiter.wait_for_grant(attempt, lead)

    async def until_slot(self, reservation: Reservation) -> float:
        return await self._waiter.until_slot(reservation)

    async def close(self) -> None:
        return None
