"""Twilio's retries of a webhook, as its connection overrides allow them, for the stand-in to play.

Twilio calls a webhook once and, by default, tries once more only when it could not connect. The
URL's fragment overrides that (Twilio's "Webhook Connection Overrides"): `rc` retries (0 to 5, default
1), `rp` which failures are retried (`ct` could not connect, the default; `rt` no answer in time;
`4xx`; `5xx`; `all`), and `tt` the total time for the call and every retry (at most 15,000 ms, the
default). So even `#rc=5&rp=all` gives up after 6 calls or 15 s, whichever comes first: a webhook that
answers 503 through a longer outage loses the message. Twilio documents no pause between retries;
none is made here, so only the calls' own time counts against `tt`.

`deliver_with_retries(standin, url, form)` posts as Twilio would and returns each call's status (0:
no connection). `clock` is injectable: a test moves it to play a slow outage without waiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs

import aiohttp

from channels.standins.twilio import TwilioStandIn

MAX_RETRIES = 5
MAX_TOTAL_SECONDS = 15.0
NO_CONNECTION = 0


@dataclass(frozen=True)
class ConnectionOverrides:
    retries: int = 1
    policy: frozenset[str] = frozenset({"ct"})
    total_seconds: float = MAX_TOTAL_SECONDS

    @classmethod
    def of(cls, url: str) -> ConnectionOverrides:
        """The overrides in `url`'s fragment, clamped to what Twilio accepts."""
        fields = {name: values[-1] for name, values in parse_qs(url.partition("#")[2]).items()}
        retries = min(max(int(fields.get("rc", "1")), 0), MAX_RETRIES)
        policy = frozenset(fields.get("rp", "ct").split(","))
        total = min(max(int(fields.get("tt", "15000")), 100), int(MAX_TOTAL_SECONDS * 1000)) / 1000
        return cls(retries, policy, total)

    def retried(self, status: int) -> bool:
        """Whether Twilio tries again after a call that ended with `status` (0: no connection)."""
        if 200 <= status < 300:
            return False
        kind = "ct" if status == NO_CONNECTION else f"{status // 100}xx"
        return "all" in self.policy or kind in self.policy


async def deliver_with_retries(
    standin: TwilioStandIn,
    url: str,
    form: Mapping[str, str],
    *,
    clock: Callable[[], float] = time.monotonic,
) -> list[int]:
    """POST `form` to `url` signed, retried as `url`'s fragment lets Twilio; every call's status."""
    overrides = ConnectionOverrides.of(url)
    started = clock()
    statuses: list[int] = []
    while True:
        try:
            statuses.append(await standin.post_signed(url, form))
        except aiohttp.ClientConnectionError:
            statuses.append(NO_CONNECTION)
        out_of_time = clock() - started >= overrides.total_seconds
        if len(statuses) > overrides.retries or out_of_time or not overrides.retried(statuses[-1]):
            return statuses
