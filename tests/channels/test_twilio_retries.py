"""The stand-in's retries copy Twilio's limits (channels/standins/twilio_retries.py): at most 5 retries,
only for the failures the URL's `rp` names, all within 15 s; over a real socket."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer, unused_port

from channels.standins.twilio import TwilioStandIn
from channels.standins.twilio_retries import ConnectionOverrides, deliver_with_retries

FORM = {"MessageSid": "SM" + "1" * 32, "From": "+48600100200", "Body": "tak"}


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://x.example/sms", ConnectionOverrides(1, frozenset({"ct"}), 15.0)),
        ("https://x.example/sms#rc=5&rp=all", ConnectionOverrides(5, frozenset({"all"}), 15.0)),
        ("https://x.example/sms#rc=9&rp=4xx,5xx&tt=60000", ConnectionOverrides(5, frozenset({"4xx", "5xx"}), 15.0)),
        ("https://x.example/sms#rc=0&tt=2000", ConnectionOverrides(0, frozenset({"ct"}), 2.0)),
    ],
)
def test_the_fragment_is_read_within_twilios_limits(url: str, expected: ConnectionOverrides) -> None:
    assert ConnectionOverrides.of(url) == expected


@pytest.fixture
async def unavailable() -> AsyncIterator[tuple[str, list[str]]]:
    """A webhook that answers 503 to every call, and the signatures of the calls it got."""
    calls: list[str] = []

    async def answer(request: web.Request) -> web.Response:
        calls.append(request.headers.get("X-Twilio-Signature", ""))
        return web.Response(status=503)

    app = web.Application()
    app.router.add_post("/sms", answer)
    async with TestServer(app, host="127.0.0.1") as server:
        yield str(server.make_url("/sms")), calls


async def test_rc5_rp_all_gives_up_after_six_calls(unavailable: tuple[str, list[str]]) -> None:
    url, calls = unavailable
    async with TwilioStandIn() as standin:
        assert await deliver_with_retries(standin, url + "#rc=5&rp=all", FORM) == [503] * 6
    assert len(calls) == 6 and all(calls)  # each one signed


async def test_without_the_override_a_503_is_not_retried(unavailable: tuple[str, list[str]]) -> None:
    url, calls = unavailable
    async with TwilioStandIn() as standin:
        assert await deliver_with_retries(standin, url, FORM) == [503]
    assert len(calls) == 1


async def test_by_default_only_a_failed_connection_is_tried_once_more() -> None:
    async with TwilioStandIn() as standin:
        assert await deliver_with_retries(standin, f"http://127.0.0.1:{unused_port()}/sms", FORM) == [0, 0]


def ticking(seconds: float) -> Callable[[], float]:
    """A clock that moves `seconds` on each reading: each call seems to take that long."""
    now = [0.0]

    def read() -> float:
        now[0] += seconds
        return now[0]

    return read


async def test_the_retries_stop_at_fifteen_seconds_whatever_the_count(unavailable: tuple[str, list[str]]) -> None:
    url, calls = unavailable
    async with TwilioStandIn() as standin:
        statuses = await deliver_with_retries(standin, url + "#rc=5&rp=all", FORM, clock=ticking(4.0))
    assert statuses == [503] * 4 and len(calls) == 4  # 4 s a call: the fourth ends past 15 s
