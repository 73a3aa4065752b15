"""A send's slot under the provider's limits, as the dispatcher takes it.

The keys a send counts against (its channel's, and a Telegram chat's under a keyed hash); the wait for
their common slot, woken `start_lead` before it, so that the send's start is recorded in the database
before the slot and the request still leaves at it; and a fresh slot for a send whose start was recorded
too late for its own. Woken at the slot itself, the start's write (a few milliseconds, more while other
writers hold SQLite's lock) made sends late past `slot_tolerance`, and each late send gave its slot up:
an SMS of three segments wasted 0.3 s of its number's second (bench/send_rate.py: 73-88% of the SMS
limit through Redis with it, 98% now).
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from outreach.clock import Clock
from outreach.outbound.dispatch_policy import DispatchPolicy
from outreach.outbound.lanes import unless_halted
from outreach.outbound.rate_limits import Item, RateLimiter, Reservation, send_keys
from outreach.outbound.reconciliation import Transaction
from outreach.telemetry import Telemetry
from storage.keys import installation_key
from storage.outbox import ClaimedMessage, OutboxRepository

LIMITER_KEY = "rate-limit-keys"  # the installation key that keys per-chat limits without a configured secret
NO_SLOT = Reservation(granted=True, wait=0.0, slot=0.0)  # no limit applies, or the limiter gave no answer


class SendSlots:
    def __init__(
        self,
        limiter: RateLimiter | None,  # None: unlimited (tests of other behaviour)
        transaction: Transaction,
        *,
        policy: DispatchPolicy,
        clock: Clock,
        address_key: bytes,
        telemetry: Telemetry,
    ) -> None:
        self._limiter = limiter
        self._transaction = transaction
        self._policy = policy
        self._clock = clock
        self._key = address_key  # keys the per-chat limit's hashes (see _secret)
        self._key_read = asyncio.Lock()  # one read of the installation key, whatever the sends waiting for it
        self._telemetry = telemetry

    async def close(self) -> None:
        if self._limiter is not None:
            await self._limiter.close()

    async def keys(self, message: ClaimedMessage, units: int) -> list[Item]:
        """What this send counts against under the provider's limits; none without a limiter."""
        if self._limiter is None:
            return []
        secret = await self._secret()
        return send_keys(message.channel, sender=message.channel, address=message.address, cost=units, secret=secret)

    async def granted(self, message: ClaimedMessage, keys: list[Item], halt: asyncio.Event) -> Reservation | None:
        """Wait for this send's slot, until `start_lead` before it (still "claimed" meanwhile: a crash
        now sends it elsewhere); None when stopping first, or when the limiter took too long (the claim
        is handed back then)."""
        limiter = self._limiter
        if limiter is None or not keys:
            return NO_SLOT
        try:
            waiting = time.monotonic()
            slot = await self._grant(limiter, keys, halt)
            self._telemetry.waited_for_slot(message.channel, time.monotonic() - waiting)
            return slot
        except TimeoutError:
            async with self._transaction() as session:
                await OutboxRepository(session).release_claim(message.id)
            return None

    async def behind(self, slot: Reservation) -> float:
        """Wait for the slot if it is still ahead; how late for it we are now (0 or more seconds)."""
        return 0.0 if self._limiter is None else await self._limiter.until_slot(slot)

    async def fresh(self, keys: list[Item], halt: asyncio.Event) -> Reservation | None:
        """A new slot for a send late for its own; None when stopping first. A limiter that does not
        answer lets it go."""
        if self._limiter is None:
            return NO_SLOT
        with contextlib.suppress(TimeoutError):
            return await self._grant(self._limiter, keys, halt)
        return NO_SLOT

    async def _grant(self, limiter: RateLimiter, keys: list[Item], halt: asyncio.Event) -> Reservation | None:
        """A slot on every key, woken `start_lead` before it; None when halted first. TimeoutError past
        half the claim's lease: a long Redis outage must not let another worker take the row over while
        this one still means to send it."""
        granted: list[Reservation] = []

        async def acquire() -> None:
            granted.append(await limiter.acquire_all(keys, lead=self._policy.start_lead))

        async with asyncio.timeout(self._policy.lease_seconds / 2):
            halted = not await unless_halted(halt, acquire)
        return None if halted else granted[0]

    async def _secret(self) -> bytes:
        """What keys the per-chat limit's hashes, so neither a chat id nor a digest that could be
        reversed by trying every id reaches Redis: the configured secret, else this installation's
        own key (in the database: the same for every worker).

        Read once, by the first send; the others wait for it in turn (asyncio.Lock is first come, first
        served), so the first sends reach the limiter in queue order. Each reading it on a connection of
        its own let whichever got a connection first take the first slot (on PostgreSQL, where a
        connection the reconciliation had just taken left the first send to open a new one)."""
        async with self._key_read:
            if not self._key:
                async with self._transaction() as session:
                    self._key = (await installation_key(session, LIMITER_KEY, now=self._clock())).encode()
        return self._key
