"""`outreach db upgrade`: the database schema, and the default population margins."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from outreach.cli.runner import console, run_with_services

if TYPE_CHECKING:
    from outreach.bootstrap import Services

db_app = typer.Typer(no_args_is_help=True, help="Database schema.")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the schema to the latest version; add the default margins (gdansk-districts)
    unless margins of that name exist."""
    from outreach.survey.margins_store import DEFAULT_MARGINS, ensure_default_margins
    from storage.migrate import upgrade

    async def work(services: Services) -> bool:
        await upgrade(services.engine, keyring=services.keyring)
        async with services.sessions() as session, session.begin():
            return await ensure_default_margins(session, now=services.clock())

    added = run_with_services(work)
    console.print("database is up to date")
    if added:
        shown = f"`outreach margins show {DEFAULT_MARGINS}`"
        added_line = f"default margins '{DEFAULT_MARGINS}' added: the 35 districts of Gdańsk ({shown})"
        console.print(added_line, markup=False, highlight=False, soft_wrap=True)
