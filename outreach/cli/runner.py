"""What every CLI command shares: consoles, clean failures, and one async run per command."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from rich.console import Console
from sqlalchemy.exc import DBAPIError

from outreach.bootstrap import Services, bootstrap
from outreach.errors import CommandError
from outreach.settings import Settings

console = Console()
# One error or warning, one line: greppable, and tests can read them.
errors = Console(stderr=True, style="red", soft_wrap=True)
warnings = Console(stderr=True, style="yellow", soft_wrap=True)

T = TypeVar("T")


def fail(message: str, code: int = 1) -> typer.Exit:
    errors.print(message, markup=False, highlight=False)
    return typer.Exit(code)


def run_with_services(work: Callable[[Services], Awaitable[T]]) -> T:
    """Run one async command against freshly wired services, and close them after."""

    async def run() -> T:
        services = bootstrap(Settings())
        try:
            return await work(services)
        finally:
            await services.close()

    try:
        return asyncio.run(run())
    except CommandError as error:
        raise fail(str(error)) from None
    except DBAPIError as error:
        raise fail(describe_database_error(error)) from None


def describe_database_error(error: DBAPIError) -> str:
    reason = str(error.orig).splitlines()[0] if error.orig else type(error).__name__
    hint = ""
    if "no such table" in reason or "does not exist" in reason:
        hint = "\nthe database has no schema yet: run `outreach db upgrade` first"
    return f"database error: {reason}{hint}"
