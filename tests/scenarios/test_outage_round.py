"""An outage round (issue 18): PostgreSQL and Redis behind TCP proxies (tests/servers/tcp_proxy.py), cut
while a small campaign runs and residents' replies arrive over Twilio's signed webhooks, some of them
retried by Twilio (as the stand-in retries: Twilio's limits, channels/standins/twilio_retries.py).
Every reply is answered 200 at its first call (the outage's go to the spool), and once the proxies are
restored, without restarting anything, the spool's flusher applies them: every reply stored once,
every resident asked the next question once, nothing sent twice.

The cut lasts OUTREACH_OUTAGE_SECONDS (default 1.5 s here; `make soak-outage` runs it for 60 s). The
flusher's longest pause is cut down so the round ends soon after the store is back.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlmodel import col

from channels.standins.twilio import API_VERSION
from channels.standins.twilio_retries import deliver_with_retries
from storage.db import is_sqlite
from storage.tables import InboundEvent, Response
from tests.conftest import ManualClock
from tests.factories import add_resident
from tests.outreach.helpers import launch
from tests.providers import SMS_FROM
from tests.scenarios.tram_campaign import TRAM_CAMPAIGN
from tests.scenarios.waiting import eventually
from tests.servers.tcp_proxy import TcpProxy
from tests.world import World, open_world

# The cut lasts a fixed time: on a CPU shared with another test worker, Twilio's 15 s of retries can end
# before the round's own steps do.
pytestmark = pytest.mark.alone

RESIDENTS = 24
REDIS_URL = os.environ.get("OUTREACH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REDIS_DATABASE = 11
OUTAGE_SECONDS = float(os.environ.get("OUTREACH_OUTAGE_SECONDS", "1.5"))
PHONES = [f"+4860020{number:04d}" for number in range(RESIDENTS)]


async def reply(world: World, phone: str, sid: str) -> int:
    form = {
        "AccountSid": world.twilio.account_sid,
        "ApiVersion": API_VERSION,
        "Body": "tak",
        "From": phone,
        "MessageSid": sid,
        "NumMedia": "0",
        "SmsSid": sid,
        "To": SMS_FROM,
    }
    # Retried as Twilio retries with the override `outreach webhooks` prints: 6 calls within 15 s at most.
    statuses = await deliver_with_retries(world.twilio, world.url("/webhooks/twilio/sms#rc=5&rp=all"), form)
    return statuses[-1] if len(statuses) == 1 else -len(statuses)  # a retried call is a failure here


async def test_a_cut_database_loses_no_reply_and_doubles_none(database_url: str, clock: ManualClock) -> None:
    if is_sqlite(database_url):
        pytest.skip("an outage round cuts PostgreSQL's network")
    url, redis = make_url(database_url), urlsplit(REDIS_URL)
    assert url.host and url.port and redis.hostname and redis.port
    async with TcpProxy(url.host, url.port) as proxy, TcpProxy(redis.hostname, redis.port) as redis_proxy:
        proxied = url.set(host=proxy.host, port=proxy.port).render_as_string(hide_password=False)
        async with open_world(
            proxied,
            clock,
            twilio=True,
            background=True,
            # The workers' shared rate limits, cut with the database (a database of its own: no other
            # test's limits share its keys).
            redis_url=f"redis://{redis_proxy.host}:{redis_proxy.port}/{REDIS_DATABASE}",
            dispatcher_poll_seconds=0.05,
            rate_sms_segments_per_second=1_000,
            spool_retry_max_seconds=0.2,
        ) as world:
            for phone in PHONES:
                await add_resident(world.services, phone=phone)
            await launch(world.services, TRAM_CAMPAIGN)
            await eventually(lambda: _sent(world, RESIDENTS), within=20)

            statuses = [await reply(world, phone, f"SM{number:032d}") for number, phone in enumerate(PHONES[:8])]
            # Their second questions out before the cut: a send in flight when the store goes away waits for
            # its claim's lease (the dispatcher's part of the issue), which is not what this round measures.
            await eventually(lambda: _sent(world, RESIDENTS + 8), within=20)
            await proxy.cut()
            await redis_proxy.cut()
            statuses += [
                await reply(world, phone, f"SM{number:032d}") for number, phone in enumerate(PHONES) if 8 <= number < 16
            ]
            statuses.append(await reply(world, PHONES[9], f"SM{9:032d}"))  # Twilio retries one it got no answer to
            await asyncio.sleep(OUTAGE_SECONDS)  # the outage itself: its length is what is measured
            assert world.services.spool.has_pending()
            await proxy.restore()
            await redis_proxy.restore()
            statuses += [
                await reply(world, phone, f"SM{number:032d}") for number, phone in enumerate(PHONES) if number >= 16
            ]

            assert statuses == [200] * (RESIDENTS + 1)  # no reply answered with an error, none lost to a retry limit
            await eventually(lambda: _sent(world, 2 * RESIDENTS), within=30)  # resumed without a restart
            await eventually(lambda: _answered(world, RESIDENTS), within=10)
            assert not world.services.spool.has_pending()
            async with world.services.sessions() as session:
                stored = Counter((await session.execute(select(col(Response.resident_id)))).scalars())
                events = (await session.execute(select(func.count()).select_from(InboundEvent))).scalar_one()
            assert (len(stored), set(stored.values()), events) == (RESIDENTS, {1}, RESIDENTS)
            assert proxy.connections and redis_proxy.connections  # both went through the proxies
            per_phone = Counter(message.to for message in world.twilio.messages)
            assert per_phone == dict.fromkeys(PHONES, 2)  # each asked both questions, nothing sent twice


async def _sent(world: World, count: int) -> bool:
    return len(world.twilio.messages) >= count


async def _answered(world: World, count: int) -> bool:
    async with world.services.sessions() as session:
        answered = (await session.execute(select(func.count()).select_from(Response))).scalar_one()
    return int(answered) >= count
