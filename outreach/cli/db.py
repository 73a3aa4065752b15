"""`outreach db upgrade`: the database schema."""

from __future__ import annotations

import typer

from outreach.bootstrap import Services
from outreach.cli.runner import console, run_with_services
from storage.migrate import upgrade

db_app = typer.Typer(no_args_is_help=True, help="Database schema.")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the schema to the latest version."""

    async def work(services: Services) -> None:
        await upgrade(services.engine)

    run_with_services(work)
    console.print("database is up to date")
