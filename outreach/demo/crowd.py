"""The Crowd that plays the simulated residents while the campaign runs: it hears every message the
stand-ins accept, and sends each reply back through the provider's webhook, retrying as the provider
would, and counts what was delivered."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aiohttp

from channels.standins.twilio import StoredMessage
from flows.campaign import Campaign
from outreach.demo.phone import Button, Received, read_message, sms_received, telegram_received
from outreach.demo.providers import SMS_SENDER, Providers
from outreach.demo.replies import reply_to
from outreach.demo.residents import SimResident

TAP_SHARE = 0.6  # of the answers a Telegram resident means: tapped on the button, the rest typed
WEBHOOK_ATTEMPTS = 3  # a provider retries a 503 (store busy); the provider id makes the retry safe


class Crowd:
    """The simulated residents at their phones: each hears what a provider stand-in received for
    them and may answer, after a human pause, the way that provider delivers it to our webhook."""

    def __init__(self, residents: Sequence[SimResident], flow: Campaign, providers: Providers) -> None:
        self._by_address = {address: r for r in residents for address in r.addresses}
        self._flow = flow
        self._first = flow.first_question().id
        self._providers = providers
        self._reasks: Counter[tuple[str, str, str]] = Counter()
        self._pending: set[asyncio.Task[None]] = set()
        self._closed = False
        self.activity = 0  # bumps whenever a reply starts or ends: lets the watcher see a quiet spell
        self.acknowledged = 0
        self.refused = 0
        self.delivered: Counter[str] = Counter()  # "sms", "telegram typed", "telegram tapped"

    def listen(self) -> None:
        self._providers.twilio.subscribe(self._hear_sms)
        self._providers.telegram.subscribe(self._hear_telegram)

    @property
    def waiting(self) -> int:
        return len(self._pending)

    def _hear_sms(self, message: StoredMessage) -> None:
        self.hear(sms_received(message))

    def _hear_telegram(self, message: dict[str, Any]) -> None:
        received = telegram_received(message)
        if received is not None:
            self.hear(received)

    def hear(self, received: Received) -> None:
        """A stand-in's listener; it runs inside the stand-in's request handler, so it only schedules."""
        resident = self._by_address.get((received.channel, received.address))
        if self._closed or resident is None:
            return
        reading = read_message(self._flow, resident.language, received)
        if reading is None:
            return
        question = reading.question
        attempt = 0
        if reading.reask:  # the n-th re-ask of a question is its attempt n
            self._reasks[(received.channel, received.address, question.id)] += 1
            attempt = self._reasks[(received.channel, received.address, question.id)]
        first = question.id == self._first
        numbered = not received.buttons
        reply = reply_to(
            resident, question, attempt, reading.choices, first=first, reminder=reading.reminder, numbered=numbered
        )
        if reply is None:
            return
        tap = None
        if reply.choice is not None and received.buttons and resident.rng.random() < TAP_SHARE:
            tap = received.buttons[reply.choice]
        delay = 0.05 + min(resident.rng.expovariate(4.0), 1.5)  # tens to hundreds of ms, a few slower
        task = asyncio.create_task(self._reply_later(resident, received, reply.text, tap, delay))
        self._pending.add(task)
        self.activity += 1
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._pending.discard(task)
        self.activity += 1

    async def _reply_later(
        self, resident: SimResident, received: Received, text: str, tap: Button | None, delay: float
    ) -> None:
        await asyncio.sleep(delay)
        if received.channel == "sms":
            kind, deliver, retry_unanswered = "sms", self._sms(received, text), False
        else:
            kind = "telegram tapped" if tap is not None else "telegram typed"
            deliver, retry_unanswered = self._telegram(resident, received, text, tap), True
        for _ in range(WEBHOOK_ATTEMPTS):
            try:
                status = await deliver()
            except aiohttp.ClientError:
                status = 0
            if status == 200:
                self.acknowledged += 1
                self.delivered[kind] += 1
                return
            # A 503 (store busy) rolled back: the provider retries. Telegram also retries an update
            # left unanswered (its update_id makes that safe); Twilio does not re-send an inbound SMS.
            if status != 503 and not (status == 0 and retry_unanswered):
                break
            await asyncio.sleep(0.5)
        self.refused += 1

    def _sms(self, received: Received, text: str) -> Callable[[], Awaitable[int]]:
        twilio, webhook = self._providers.twilio, self._providers.sms_webhook

        async def deliver() -> int:
            status, _sid = await twilio.deliver_inbound(webhook, from_=received.address, to=SMS_SENDER, body=text)
            return status

        return deliver

    def _telegram(
        self, resident: SimResident, received: Received, text: str, tap: Button | None
    ) -> Callable[[], Awaitable[int]]:
        telegram, chat = self._providers.telegram, int(received.address)
        if tap is not None and received.message_id is not None:
            update = telegram.callback_update(chat, tap.data, received.message_id, language_code=resident.language)
        else:
            update = telegram.message_update(chat, text, language_code=resident.language)

        async def deliver() -> int:  # the same update each time: a retry is recognised by its update_id
            return await telegram.post_update(self._providers.telegram_webhook, update, self._providers.telegram_secret)

        return deliver

    async def close(self) -> None:
        self._closed = True
        for task in self._pending:
            task.cancel()
        await asyncio.gather(*self._pending, return_exceptions=True)
