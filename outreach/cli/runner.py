"""What every CLI command shares: consoles, clean failures, and one async run per command."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import typer
from rich.console import Console

from outreach.errors import CommandError, system_reason

# Imported where used: a command's module imports this one, and its `--help` (which loads the module)
# should not pay for the settings, the database and the wiring (tests/outreach/cli/test_lazy.py).
if TYPE_CHECKING:
    from pydantic_core import ErrorDetails
    from sqlalchemy.exc import DBAPIError

    from outreach.bootstrap import Services
    from outreach.settings import Settings

console = Console()
# One error or warning, one line: greppable, and tests can read them.
errors = Console(stderr=True, style="red", soft_wrap=True)
warnings = Console(stderr=True, style="yellow", soft_wrap=True)

T = TypeVar("T")


def fail(message: str, code: int = 1) -> typer.Exit:
    errors.print(message, markup=False, highlight=False)
    return typer.Exit(code)


def load_settings() -> Settings:
    """The settings, or a clean exit naming each setting to fix (never their values: secrets)."""
    from pydantic import ValidationError

    from outreach.settings import Settings

    try:
        return Settings()
    except ValidationError as error:
        problems = [_problem(problem) for problem in error.errors(include_input=False, include_url=False)]
        raise fail("configuration refused: " + "; ".join(problems)) from None


def _problem(problem: ErrorDetails) -> str:
    from outreach.settings import env_name

    message = problem["msg"].removeprefix("Value error, ")
    return f"{env_name(str(problem['loc'][0]))}: {message}" if problem["loc"] else message


def run_with_services(work: Callable[[Services], Awaitable[T]]) -> T:
    """Run one async command against freshly wired services, and close them after."""
    from sqlalchemy.exc import DBAPIError

    from outreach.bootstrap import bootstrap
    from outreach.logs import configure_command_logging

    settings = load_settings()
    configure_command_logging(settings.log_level, settings.log_format)

    async def run() -> T:
        services = bootstrap(settings)
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
    except (ConnectionError, socket.gaierror, TimeoutError) as error:  # the driver could not connect
        raise fail(unreachable_database(settings.database_url, error)) from None


def unreachable_database(url: str, error: OSError) -> str:
    """Where the database was looked for (host and port: never the user or password) and why it did not
    answer; a traceback said it with asyncpg's frames."""
    from sqlalchemy.engine import make_url

    where = make_url(url)
    return (
        f"cannot reach the database at {where.host or 'localhost'}:{where.port or 5432} ({system_reason(error)}):"
        " is it running there? OUTREACH_DATABASE_URL says where to look"
    )


def describe_database_error(error: DBAPIError) -> str:
    reason = str(error.orig).splitlines()[0] if error.orig else type(error).__name__
    hint = ""
    if "no such table" in reason or "does not exist" in reason:
        hint = "\nthe database has no schema yet: run `outreach db upgrade` first"
    return f"database error: {reason}{hint}"
