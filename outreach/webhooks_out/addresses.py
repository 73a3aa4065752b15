"""Where a webhook may be posted (SSRF): https only unless allowed, and only to public addresses.

A host name is resolved, every address it resolves to is checked, and the connection goes to a checked
address: the resolver below refuses a name with any address that is not public, and the socket factory
checks the address again at connect time (it also covers a URL that names an IP address, which aiohttp
connects to without asking the resolver). Private, loopback, link-local (the cloud metadata address
169.254.169.254 among them), shared, multicast and reserved addresses are all "not public": Python's
`is_global` is False for each. A setting allows them for tests and a subscriber on the same host.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Callable
from ipaddress import IPv4Address, IPv6Address, ip_address
from typing import Any
from urllib.parse import urlsplit

from aiohttp import TCPConnector
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

AddrInfo = tuple[Any, ...]


class RefusedAddress(OSError):
    """A subscriber URL or an address it leads to that webhooks may not go to (an OSError, so that
    aiohttp reports it from its resolver and its connect as the connection error it is)."""

    def __init__(self, message: str) -> None:
        super().__init__(errno.EACCES, message)  # strerror: what aiohttp's error shows

    def __str__(self) -> str:
        return str(self.strerror)


def is_public(address: str) -> bool:
    ip: IPv4Address | IPv6Address = ip_address(address.split("%", 1)[0])  # drop an IPv6 zone
    if isinstance(ip, IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is loopback
    return ip.is_global and not ip.is_multicast


def check_url(url: str, *, allow_http: bool) -> None:
    """Refuse a URL webhooks may not be posted to, before any DNS: scheme, host, credentials."""
    parts = urlsplit(url)
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes:
        raise RefusedAddress("the URL must be https://" + (" or http://" if allow_http else ""))
    if not parts.hostname:
        raise RefusedAddress("the URL has no host")
    if parts.username or parts.password:
        raise RefusedAddress("the URL may not carry a user name or password")
    try:
        parts.port  # noqa: B018  (raises on a port out of range)
    except ValueError:
        raise RefusedAddress("the URL's port is not a number from 0 to 65535") from None


def check_address(address: str, *, allow_private: bool) -> None:
    if not allow_private and not is_public(address):
        raise RefusedAddress(f"{address} is not a public address (private, loopback, link-local or reserved)")


def _ip_literal(host: str) -> str | None:
    try:
        return str(ip_address(host.strip("[]")))
    except ValueError:
        return None


async def check_destination(
    url: str, *, allow_http: bool, allow_private: bool, resolver: AbstractResolver | None = None
) -> None:
    """Refuse a subscriber URL at registration: its form, then every address its host resolves to."""
    check_url(url, allow_http=allow_http)
    host = urlsplit(url).hostname or ""
    literal = _ip_literal(host)
    if literal is not None:
        check_address(literal, allow_private=allow_private)
        return
    checking = PublicOnlyResolver(resolver, allow_private=allow_private)
    try:
        await checking.resolve(host, 0, socket.AF_UNSPEC)
    except RefusedAddress:
        raise
    except OSError as error:
        raise RefusedAddress(f"the host {host} does not resolve: {error.strerror or error}") from None
    finally:
        if resolver is None:
            await checking.close()


class PublicOnlyResolver(AbstractResolver):
    """Resolves with `inner` and refuses the name when any of its addresses is not public."""

    def __init__(self, inner: AbstractResolver | None = None, *, allow_private: bool = False) -> None:
        self._inner = inner or DefaultResolver()
        self._allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        for result in found:
            check_address(result["host"], allow_private=self._allow_private)
        return found

    async def close(self) -> None:
        await self._inner.close()


def checking_socket_factory(*, allow_private: bool) -> Callable[[AddrInfo], socket.socket]:
    """aiohttp's socket factory, checking the address it is about to connect to."""

    def make(addr_info: AddrInfo) -> socket.socket:
        family, kind, protocol, _name, sockaddr = addr_info
        check_address(str(sockaddr[0]), allow_private=allow_private)
        made = socket.socket(family=family, type=kind, proto=protocol)
        made.setblocking(False)
        return made

    return make


def guarded_connector(*, allow_private: bool, resolver: AbstractResolver | None = None) -> TCPConnector:
    """A connector that only reaches public addresses (unless `allow_private`); `resolver` is the DNS
    underneath (tests inject one that answers without the network)."""
    return TCPConnector(
        resolver=PublicOnlyResolver(resolver, allow_private=allow_private),
        socket_factory=checking_socket_factory(allow_private=allow_private),
        use_dns_cache=False,  # each connection is resolved and checked afresh
    )
