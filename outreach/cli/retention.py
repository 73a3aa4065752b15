"""`outreach retention run [--dry-run]`: remove what the RETENTION_* settings no longer keep, now
(`serve` does it daily); with --dry-run, only count it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from outreach.cli.runner import console, run_with_services

if TYPE_CHECKING:
    from outreach.bootstrap import Services
    from storage.retention import Kind

retention_app = typer.Typer(no_args_is_help=True, help="Retention: remove what is kept no longer (docs/PRIVACY.md).")


@retention_app.command("run")
def retention_run(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what is due; remove nothing.")] = False,
) -> None:
    """Remove what is due now, in batches; print the count per kind."""
    from outreach.audit import Actor
    from outreach.rights.retention import Retention

    async def work(services: Services) -> dict[Kind, int]:
        return await Retention(services.sessions, services.settings, clock=services.clock).run(
            actor=Actor.cli(), dry_run=dry_run
        )

    counts = run_with_services(work)
    verb = "due" if dry_run else "removed"
    if not counts:
        console.print("every kind is kept forever (RETENTION_* settings are 0)")
    for kind, count in counts.items():
        console.print(f"{kind.value}: {count} {verb}", markup=False, highlight=False)
