"""The provider limits shared by every worker through Redis: the same GCRA reservation as
`outreach.outbound.rate_limits.GcraLimiter`, made atomically in one Lua call per attempt; and the
choice between the two a worker makes from its settings (`build_rate_limiter`)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from outreach.outbound.rate_limits import (
    DEFAULT_LATENESS,
    GcraLimiter,
    Item,
    Lateness,
    MonotonicClock,
    RateLimiter,
    RatePolicy,
    Reservation,
    Sleep,
    SlotWaiter,
    limited_needs,
)

if TYPE_CHECKING:  # redis is imported by a process that uses it, not by every command that wires services
    import redis.asyncio as aioredis

log = logging.getLogger(__name__)

# The same GCRA reservation as GcraLimiter.reserve, on the Redis server's clock in microseconds (so
# workers with skewed clocks agree). Keys expire a second after their TAT: an absent key is idle.
# KEYS: the limited keys. ARGV[1]: "1" when the attempt may defer. Then per key: interval_us, cost, burst.
# Returns {granted (1/0), wait_us, slot_us}; numbers as strings, since Redis truncates Lua numbers.
GCRA_LUA = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local may_defer = ARGV[1] == '1'
local tats, intervals, costs, earliest = {}, {}, {}, {}
local slot, binding = now, 1
for i = 1, #KEYS do
  local base = 2 + 3 * (i - 1)
  intervals[i] = tonumber(ARGV[base])
  costs[i] = tonumber(ARGV[base + 1])
  local burst = tonumber(ARGV[base + 2])
  local tat = tonumber(redis.call('GET', KEYS[i]) or now)
  if tat < now then tat = now end
  tats[i] = tat
  earliest[i] = tat - (math.max(burst, costs[i]) - costs[i]) * intervals[i]
  if earliest[i] > slot then slot = earliest[i] end
  if earliest[i] > earliest[binding] then binding = i end
end
local function answer(granted)
  return {granted, string.format('%.3f', slot - now), string.format('%.3f', slot)}
end
if may_defer then
  for i = 1, #KEYS do
    if intervals[i] < intervals[binding] and slot - math.max(earliest[i], now) > intervals[i] then
      return answer(0)
    end
  end
end
for i = 1, #KEYS do
  local tat = math.max(slot, tats[i]) + costs[i] * intervals[i]
  redis.call('SET', KEYS[i], string.format('%.3f', tat), 'PX', math.ceil((tat - now) / 1000) + 1000)
end
return answer(1)
"""


class RedisRateLimiter:
    """The limits shared by every worker through Redis: one Lua call per attempt (EVALSHA, loading the
    script again after a Redis restart), keys under `prefix` that expire when idle.

    Redis unreachable: fail closed. Nothing is granted while Redis does not answer; the limiter logs
    once, retries every `retry_seconds`, and logs again when Redis is back. Sending on regardless would
    break the limit for every worker at once, and a per-process fallback cannot know the others.

    Time is the Redis server's (TIME inside the script), so workers whose clocks disagree share one
    schedule. If the server's clock steps back, keys wait longer (never send faster); if it steps
    forward, each key may send one burst early. One script call touches every key of a send: on Redis
    Cluster give a prefix with a hash tag ("{outreach-rate}:") so that they share a slot.
    """

    def __init__(
        self,
        client: aioredis.Redis,
        policy: RatePolicy,
        *,
        prefix: str = "outreach:rate:",
        clock: MonotonicClock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        retry_seconds: float = 1.0,
        lateness: Lateness = DEFAULT_LATENESS,
    ) -> None:
        self._client = client
        self._policy = policy
        self._prefix = prefix
        self._sleep = sleep
        self._waiter = SlotWaiter(clock, sleep, lateness)
        self._retry_seconds = retry_seconds
        self._script = client.register_script(GCRA_LUA)
        self._unavailable = False
        from redis import exceptions

        self._unreachable = (exceptions.ConnectionError, exceptions.TimeoutError, ConnectionError, TimeoutError)

    @classmethod
    def from_url(
        cls, url: str, policy: RatePolicy, *, prefix: str = "outreach:rate:", retry_seconds: float = 1.0
    ) -> RedisRateLimiter:
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        return cls(client, policy, prefix=prefix, retry_seconds=retry_seconds)

    async def reserve(self, items: Iterable[Item], *, may_defer: bool = True) -> Reservation:
        """One atomic attempt in Redis (see GcraLimiter.reserve); `slot` is on the Redis clock."""
        needs = limited_needs(self._policy, items)
        if not needs:
            return Reservation(granted=True, wait=0.0, slot=0.0)
        keys = [self._prefix + need.key for need in needs]
        args: list[str] = ["1" if may_defer else "0"]
        for need in needs:
            args += [repr(need.interval * 1e6), repr(need.cost), repr(need.burst)]
        while True:
            try:
                granted, wait_us, slot_us = await self._script(keys=keys, args=args)
            except self._unreachable as error:
                if not self._unavailable:
                    self._unavailable = True
                    log.warning(
                        "rate limits: Redis unreachable (%s); holding every send, retrying every %.1fs",
                        type(error).__name__,
                        self._retry_seconds,
                    )
                await self._sleep(self._retry_seconds)
                continue
            if self._unavailable:
                self._unavailable = False
                log.warning("rate limits: Redis answers again; sending resumes")
            return Reservation(granted=int(granted) == 1, wait=float(wait_us) / 1e6, slot=float(slot_us) / 1e6)

    async def acquire(self, key: str, cost: float = 1.0) -> Reservation:
        return await self.acquire_all([(key, cost)])

    async def acquire_all(self, items: Iterable[Item], *, lead: float = 0.0) -> Reservation:
        request = list(items)

        async def attempt(may_defer: bool) -> Reservation:
            return await self.reserve(request, may_defer=may_defer)

        return await self._waiter.wait_for_grant(attempt, lead)

    async def until_slot(self, reservation: Reservation) -> float:
        return await self._waiter.until_slot(reservation)

    @property
    def late_slots(self) -> int:
        """Slots given up because a sender woke too late (a measure of event-loop stalls)."""
        return self._waiter.late_slots

    async def close(self) -> None:
        await self._client.aclose()


def build_rate_limiter(redis_url: str | None, policy: RatePolicy, *, prefix: str = "outreach:rate:") -> RateLimiter:
    """Redis when a URL is set (the limits hold across workers), else in this process only."""
    if redis_url:
        return RedisRateLimiter.from_url(redis_url, policy, prefix=prefix)
    return GcraLimiter(policy)
