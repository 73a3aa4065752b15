"""The residents of a crash round: each answers every question that reaches their phone at the Twilio
stand-in, once, over a signed webhook that Twilio retries as its connection overrides allow
(channels/standins/twilio_retries.py) through the balancer; a share of the replies Twilio delivers a
second time after they were acknowledged (a provider's duplicate), which must count once.
"""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from dataclasses import dataclass, field

from channels.standins.twilio import API_VERSION, StoredMessage, TwilioStandIn
from channels.standins.twilio_retries import deliver_with_retries
from tests.providers import SMS_FROM

WEBHOOK = "/webhooks/twilio/sms#rc=5&rp=all"  # what `outreach webhooks` tells an operator to give Twilio


@dataclass
class Reply:
    phone: str
    question: str
    sid: str
    statuses: list[int] = field(default_factory=list)

    @property
    def acknowledged(self) -> bool:
        return any(200 <= status < 300 for status in self.statuses)


class Residents:
    def __init__(
        self,
        standin: TwilioStandIn,
        url: str,
        questions: dict[str, str],
        rng: random.Random,
        *,
        duplicate_share: float = 0.1,
        think_seconds: float = 0.2,
        at_once: int = 16,
    ) -> None:
        self._standin = standin
        self._url = url + WEBHOOK
        self._questions = questions  # question id -> the start of its text
        self._rng = rng
        self._duplicate_share = duplicate_share
        self._think = think_seconds
        self._at_once = asyncio.Semaphore(at_once)
        self.received: dict[str, list[str]] = defaultdict(list)  # phone -> bodies, as the stand-in took them
        self.replies: dict[tuple[str, str], Reply] = {}
        self.duplicates_delivered = 0
        self._tasks: set[asyncio.Task[None]] = set()
        standin.subscribe(self._heard)

    @property
    def pending(self) -> int:
        return len(self._tasks)

    def asked(self, phone: str, question: str) -> int:
        """How many times `phone` was sent `question`."""
        start = self._questions[question]
        return sum(body.startswith(start) for body in self.received[phone])

    def _heard(self, message: StoredMessage) -> None:
        self.received[message.to].append(message.body)
        for question, start in self._questions.items():
            if message.body.startswith(start) and (message.to, question) not in self.replies:
                reply = Reply(message.to, question, f"SM{self._rng.getrandbits(128):032x}")
                self.replies[(message.to, question)] = reply
                task = asyncio.create_task(self._answer(reply))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _answer(self, reply: Reply) -> None:
        await asyncio.sleep(self._rng.uniform(0, self._think))
        form = {
            "AccountSid": self._standin.account_sid,
            "ApiVersion": API_VERSION,
            "Body": "tak",
            "From": reply.phone,
            "MessageSid": reply.sid,
            "NumMedia": "0",
            "SmsSid": reply.sid,
            "To": SMS_FROM,
        }
        async with self._at_once:
            reply.statuses += await deliver_with_retries(self._standin, self._url, form)
            if reply.acknowledged and self._rng.random() < self._duplicate_share:
                self.duplicates_delivered += 1
                reply.statuses += await deliver_with_retries(self._standin, self._url, form)
