"""The command line from an async test: the CLI runs its own event loop, so it runs in a thread."""

from __future__ import annotations

import asyncio

import typer
from typer.testing import CliRunner, Result

from outreach.cli.main import app as main_app


async def invoke(cli: CliRunner, args: list[str], app: typer.Typer = main_app) -> Result:
    return await asyncio.to_thread(cli.invoke, app, args)
