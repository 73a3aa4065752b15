"""The parsing processes (outreach.campaigns.parse_ahead) this test process started, found the way an
operator would find them: as children of the process, from /proc."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path


def parsing_processes() -> set[int]:
    """This process's children that multiprocessing spawned to run a function (not its resource tracker)."""
    found = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                command = Path(f"/proc/{child}/cmdline").read_bytes()
            except OSError:
                continue
            if b"spawn_main" in command and b"resource_tracker" not in command:
                found.add(int(child))
    return found


async def new_parser(before: set[int], *, within: float = 30.0) -> int:
    """The one parsing process started since `before` was taken, once it is running."""
    async with asyncio.timeout(within):
        while not (started := parsing_processes() - before):  # noqa: ASYNC110 (another process: no Event to share)
            await asyncio.sleep(0.02)
    (parser,) = started
    return parser
