"""SSRF: a subscriber URL is refused unless https and public, checked after DNS (answered here by an
injected resolver, without the network) and again at connect time, where a name that resolved to a
public address at registration and to loopback later (DNS rebinding) reaches nothing."""

from __future__ import annotations

import re

import aiohttp
import pytest

from outreach.audit import Actor
from outreach.clock import system_clock
from outreach.settings import Settings
from outreach.webhooks_out.addresses import RefusedAddress, check_destination, guarded_connector, is_public
from outreach.webhooks_out.subscription_errors import SubscriptionError
from outreach.webhooks_out.subscriptions import Subscriptions
from tests.outreach.webhooks_out.dns import StaticResolver
from tests.outreach.webhooks_out.subscriber import LoopbackSubscriber

OPERATOR = Actor("official", "1", "test operator")

LOOPBACK_REFUSED = re.escape("127.0.0.1 is not a public address")

DNS = {
    "loopback.example": ["127.0.0.1"],
    "ten.example": ["10.1.2.3"],
    "metadata.example": ["169.254.169.254"],
    "mixed.example": ["93.184.215.14", "192.168.1.20"],  # one bad address is enough to refuse
    "public.example": ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
}


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.1",
        "172.16.5.5",
        "192.168.0.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fd00:ec2::254",
        "::ffff:127.0.0.1",
        "224.0.0.1",
    ],
)
def test_addresses_that_are_not_public(address: str) -> None:
    assert not is_public(address)


def test_public_addresses() -> None:
    assert is_public("93.184.215.14") and is_public("2606:2800:21f:cb07:6820:80da:af6b:8b2c")


@pytest.mark.parametrize(
    ("url", "refusal"),
    [
        ("https://loopback.example/hooks", "127.0.0.1 is not a public address"),
        ("https://ten.example/hooks", "10.1.2.3 is not a public address"),
        ("https://metadata.example/latest/meta-data", "169.254.169.254 is not a public address"),
        ("https://mixed.example/hooks", "192.168.1.20 is not a public address"),
        ("https://127.0.0.1/hooks", "127.0.0.1 is not a public address"),
        ("https://[::1]/hooks", "::1 is not a public address"),
        ("http://public.example/hooks", "must be https://"),
        ("https://user:pw@public.example/hooks", "user name or password"),
        ("https://nowhere.example/hooks", "does not resolve"),
    ],
)
async def test_a_url_is_refused_after_resolution_when_private_addresses_are_not_allowed(url: str, refusal: str) -> None:
    with pytest.raises(RefusedAddress, match=re.escape(refusal)):
        await check_destination(url, allow_http=False, allow_private=False, resolver=StaticResolver(DNS))


async def test_public_https_passes_and_the_settings_allow_http_and_private_for_tests() -> None:
    resolver = StaticResolver(DNS)
    await check_destination("https://public.example/hooks", allow_http=False, allow_private=False, resolver=resolver)
    await check_destination("http://loopback.example:8080/x", allow_http=True, allow_private=True, resolver=resolver)


async def test_subscribing_to_a_private_address_is_refused_with_the_reason() -> None:
    settings = Settings(database_url="sqlite+aiosqlite:///unused.db", _env_file=None)
    subscriptions = Subscriptions(
        sessions=None,  # type: ignore[arg-type]  # refused before the store is touched
        settings=settings,
        clock=system_clock,
        resolver=StaticResolver(DNS),
    )
    with pytest.raises(SubscriptionError, match=re.escape("169.254.169.254 is not a public address")):
        await subscriptions.subscribe(OPERATOR, url="https://metadata.example/", events=["response.created"])


async def test_connect_time_check_stops_dns_rebinding_and_ip_literals() -> None:
    """Registered while public.example was public; now it says 127.0.0.1: nothing is connected to."""
    async with LoopbackSubscriber() as subscriber:
        table = dict(DNS)
        resolver = StaticResolver(table)
        await check_destination(
            f"http://public.example:{subscriber.port}/hooks", allow_http=True, allow_private=False, resolver=resolver
        )
        table["public.example"] = ["127.0.0.1"]  # rebound
        connector = guarded_connector(allow_private=False, resolver=resolver)
        async with aiohttp.ClientSession(connector=connector) as http:
            with pytest.raises(aiohttp.ClientConnectorError, match=LOOPBACK_REFUSED):
                await http.post(f"http://public.example:{subscriber.port}/hooks", data=b"{}")
            # An IP literal skips the resolver; the socket factory refuses it at connect.
            with pytest.raises(aiohttp.ClientConnectorError, match=LOOPBACK_REFUSED):
                await http.post(subscriber.url, data=b"{}")
        allowed = guarded_connector(allow_private=True, resolver=resolver)
        async with aiohttp.ClientSession(connector=allowed) as http, http.post(subscriber.url, data=b"{}") as answer:
            assert answer.status == 200
    assert len(subscriber.posts) == 1  # only the allowed one arrived
