"""Finding a send of unknown outcome in Twilio's Messages list: the stand-in's list (only To, From and
DateSent filter it; paged by next_page_uri; a message appears only once sent) and the channel's match
(body and time window through the real SDK, with a grace period for Twilio's lag)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from channels.base import Outbound
from channels.standins.twilio import TwilioStandIn
from channels.twilio_sms import TwilioChannel
from tests.providers import SMS_FROM as SENDER
from tests.providers import TWILIO_ACCOUNT_SID as ACCOUNT_SID
from tests.providers import TWILIO_AUTH_TOKEN as AUTH_TOKEN
from tests.providers import TWILIO_SERVICE_SID as SERVICE_SID

RESIDENT = "+48600100200"
OTHER = "+48600100300"
AUTHORIZATION = {"Authorization": aiohttp.encode_basic_auth(ACCOUNT_SID, AUTH_TOKEN)}
START = datetime(2027, 3, 1, 23, 59, 50, tzinfo=UTC)  # ten seconds before midnight


class TwilioClock:
    """Twilio's own time, moved by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def twilio_time() -> TwilioClock:
    return TwilioClock()


@pytest.fixture
async def standin(twilio_time: TwilioClock) -> AsyncIterator[TwilioStandIn]:
    async with TwilioStandIn(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, clock=twilio_time) as running:
        yield running


async def channel_for(standin: TwilioStandIn, **overrides: Any) -> TwilioChannel:
    kwargs: dict[str, Any] = {
        "name": "sms",
        "account_sid": ACCOUNT_SID,
        "auth_token": AUTH_TOKEN,
        "api_base_url": standin.base_url,
        "public_url": "https://outreach.example.gda.pl",
        "sender": SENDER,
    } | overrides
    channel = TwilioChannel(**kwargs)
    await channel.start()
    return channel


async def sms(standin: TwilioStandIn, to: str, body: str, *, sender: str = SENDER) -> None:
    async with (
        aiohttp.ClientSession(headers=AUTHORIZATION) as http,
        http.post(standin.base_url + standin.messages_path(), data={"To": to, "From": sender, "Body": body}) as answer,
    ):
        assert answer.status == 201


async def listed(standin: TwilioStandIn, query: str) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession(headers=AUTHORIZATION) as http,
        http.get(standin.base_url + standin.messages_path() + "?" + query) as answer,
    ):
        assert answer.status == 200
        page: dict[str, Any] = await answer.json()
        return page


@pytest.mark.parametrize(
    ("query", "bodies"),
    [
        ("", ["c", "b", "a"]),  # newest first
        ("To=%2B48600100200", ["c", "a"]),
        ("From=%2B48500000200", ["b"]),
        ("DateSent=2027-03-01", ["a"]),  # the day it was sent, not created
        ("DateSent=2027-03-02T00:00:00Z", ["c", "b"]),  # the SDK's form of a day
        ("To=%2B48600100200&DateSent=2027-03-02", ["c"]),
    ],
)
async def test_the_list_filters_by_to_from_and_the_day_sent(
    standin: TwilioStandIn, twilio_time: TwilioClock, query: str, bodies: list[str]
) -> None:
    await sms(standin, RESIDENT, "a")
    twilio_time.now += timedelta(seconds=20)  # past midnight
    await sms(standin, OTHER, "b", sender="+48500000200")
    await sms(standin, RESIDENT, "c")
    page = await listed(standin, query)
    assert [message["body"] for message in page["messages"]] == bodies
    assert all(message["status"] == "sent" and message["date_sent"] for message in page["messages"])


async def test_the_list_pages_by_next_page_uri(standin: TwilioStandIn, twilio_time: TwilioClock) -> None:
    for number in range(5):
        await sms(standin, RESIDENT, f"m{number}")
        twilio_time.now += timedelta(seconds=1)
    first = await listed(standin, "To=%2B48600100200&PageSize=2")
    assert [m["body"] for m in first["messages"]] == ["m4", "m3"]
    assert first["next_page_uri"].startswith(standin.messages_path() + "?To=%2B48600100200&PageSize=2&Page=1")
    await sms(standin, RESIDENT, "late")  # a new message does not shift the pages already read
    second = await listed(standin, first["next_page_uri"].split("?", 1)[1])
    assert [m["body"] for m in second["messages"]] == ["m2", "m1"]
    third = await listed(standin, second["next_page_uri"].split("?", 1)[1])
    assert [m["body"] for m in third["messages"]] == ["m0"]
    assert third["next_page_uri"] is None


async def test_a_message_is_listed_only_once_sent(standin: TwilioStandIn, twilio_time: TwilioClock) -> None:
    standin.list_lag = timedelta(seconds=30)
    await sms(standin, RESIDENT, "queued")
    assert (await listed(standin, "To=%2B48600100200"))["messages"] == []
    twilio_time.now += timedelta(seconds=30)
    assert [m["body"] for m in (await listed(standin, "To=%2B48600100200"))["messages"]] == ["queued"]


def question(text: str = "Czy chcesz ławek?") -> Outbound:
    return Outbound(key="q:1:1:visits:0", channel="sms", address=RESIDENT, text=text)


@pytest.mark.parametrize(
    ("created_after_start", "body", "our_minutes_later", "found", "settled"),
    [
        (timedelta(seconds=1), "Czy chcesz ławek?", 1, True, False),  # ours: found, across midnight
        (timedelta(seconds=1), "Inny tekst", 1, False, False),  # another body, within the grace
        (timedelta(seconds=1), "Inny tekst", 6, False, True),  # after the grace: surely never sent
        (timedelta(minutes=-5), "Czy chcesz ławek?", 6, False, True),  # the same text, sent long before
        (timedelta(seconds=45), "Czy chcesz ławek?", 6, False, True),  # after our send's window
    ],
)
async def test_the_channel_matches_body_and_time_window(
    standin: TwilioStandIn,
    twilio_time: TwilioClock,
    created_after_start: timedelta,
    body: str,
    our_minutes_later: int,
    found: bool,
    settled: bool,
) -> None:
    channel = await channel_for(standin)
    try:
        twilio_time.now = START + created_after_start
        await sms(standin, RESIDENT, body)
        await sms(standin, OTHER, "Czy chcesz ławek?")  # someone else's copy never matches
        twilio_time.now = START + timedelta(minutes=our_minutes_later)
        lookup = await channel.find_sent(question(), started_at=START, now=START + timedelta(minutes=our_minutes_later))
    finally:
        await channel.close()
    assert (lookup.provider_id is not None, lookup.settled) == (found, settled)
    if found:
        assert lookup.provider_id == standin.messages[0].sid


async def test_lag_keeps_the_answer_open_until_the_grace_passes(
    standin: TwilioStandIn, twilio_time: TwilioClock
) -> None:
    standin.list_lag = timedelta(minutes=2)
    channel = await channel_for(standin)
    try:
        await sms(standin, RESIDENT, "Czy chcesz ławek?")
        twilio_time.now = START + timedelta(minutes=1)
        early = await channel.find_sent(question(), started_at=START, now=twilio_time.now)
        twilio_time.now = START + timedelta(minutes=3)
        later = await channel.find_sent(question(), started_at=START, now=twilio_time.now)
    finally:
        await channel.close()
    assert early.unsure  # not listed yet, and too early to say it never left
    assert later.provider_id == standin.messages[0].sid


async def test_a_messaging_service_is_looked_up_by_to_only_through_every_page(
    standin: TwilioStandIn, twilio_time: TwilioClock
) -> None:
    channel = await channel_for(standin, sender=None, messaging_service_sid=SERVICE_SID)
    try:
        await channel.send(question())
        for number in range(120):  # more than one page of the channel's list (100)
            twilio_time.now += timedelta(milliseconds=10)
            await sms(standin, RESIDENT, f"noise {number}")
        lookup = await channel.find_sent(question(), started_at=START, now=START + timedelta(minutes=1))
    finally:
        await channel.close()
    assert lookup.provider_id == standin.messages[0].sid
    gets = [request for request in standin.requests if request.method == "GET"]
    assert len(gets) == 2  # the second page came from next_page_uri
    assert "From" not in gets[0].form and gets[0].form["To"] == RESIDENT
    assert gets[0].form["DateSent"].startswith("2027-03-01")
