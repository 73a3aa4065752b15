"""Ports for the servers a test starts on loopback, chosen so no other test can take them first.

A port found free and then closed (aiohttp's `unused_port`) is free only for a moment: it lies in the
system's ephemeral range, so any connection another test worker opens (to PostgreSQL, Redis, a
stand-in) may be given it as its local port before our server binds, and the bind fails with
EADDRINUSE. CI failed that way once in about 4,400 tests.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

LOWEST_SPARE = 10_000
EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def bound_socket(host: str = "127.0.0.1") -> socket.socket:
    """A socket bound to a port of the system's choosing and kept: for a server in this process, which
    is handed the socket itself, so nothing can take its port between choosing and listening."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, 0))
    return listener


def spare_port(host: str = "127.0.0.1") -> int:
    """A free port below the ephemeral range: for a server in another process, which binds it by number
    later. Neither a connection's local port nor a bind to port 0 is ever taken from there, so only
    another test's pick of the same number could race, one in twenty thousand."""
    lowest_ephemeral = int(EPHEMERAL_RANGE.read_text().split()[0]) if EPHEMERAL_RANGE.exists() else 32_768
    while True:
        port = random.randrange(LOWEST_SPARE, lowest_ephemeral)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return port
