"""Waiting in a scenario for what the service reaches by itself, in other processes or on its own
schedule (not a schedule a test could move with the injected clock)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


async def eventually(check: Callable[[], Awaitable[bool]], *, within: float) -> None:
    """Wait until `check()` holds; AssertionError after `within` seconds."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {within} s")
        await asyncio.sleep(0.05)
