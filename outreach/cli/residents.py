"""`outreach residents import FILE`: residents and their addresses from the CSV format of PRODUCT.md."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from outreach.bootstrap import Services
from outreach.campaigns.residents_import import ImportFileError, import_residents
from outreach.cli.runner import console, errors, fail, run_with_services

residents_app = typer.Typer(no_args_is_help=True, help="Residents and their addresses.")


@residents_app.command("import")
def residents_import(
    file: Annotated[Path, typer.Argument(help="CSV, UTF-8, header row (see README).")],
    region: Annotated[str | None, typer.Option(help="Region for numbers without +prefix.")] = None,
) -> None:
    """Import or update residents; bad rows are reported by line while good rows go in."""

    async def work(services: Services) -> None:
        with Progress(TextColumn("importing"), BarColumn(), MofNCompleteColumn(), console=console) as bar:
            task = bar.add_task("rows", total=_count_rows(file))
            report = await import_residents(
                services.sessions,
                file,
                region=(region or services.settings.default_region).upper(),
                clock=services.clock,
                on_row=lambda: bar.advance(task),
            )
        console.print(f"{report.created} created, {report.updated} updated, {len(report.errors)} rejected")
        for error in report.errors:
            errors.print(f"{file}:{error}", markup=False, highlight=False)
        if report.errors:
            raise typer.Exit(2)

    try:
        run_with_services(work)
    except ImportFileError as error:
        raise fail(str(error)) from None


def _count_rows(path: Path) -> int | None:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return max(sum(1 for _ in csv.reader(handle)) - 1, 0)
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
