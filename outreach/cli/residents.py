"""`outreach residents import FILE`: residents and their addresses from the CSV format of PRODUCT.md."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from outreach.cli.runner import console, errors, fail, run_with_services
from storage.on_match import OnMatch

if TYPE_CHECKING:
    from outreach.bootstrap import Services

residents_app = typer.Typer(no_args_is_help=True, help="Residents and their addresses.")

ON_MATCH_HELP = (
    "A row with an address a resident already has: skip leaves that resident as they were; update"
    " sets their language, attributes and the consent of the addresses they have; merge also attaches"
    " the row's new addresses to them."
)


@residents_app.command("import")
def residents_import(
    file: Annotated[Path, typer.Argument(help="CSV, UTF-8, header row (see README).")],
    region: Annotated[str | None, typer.Option(help="Region for numbers without +prefix.")] = None,
    on_match: Annotated[OnMatch, typer.Option(help=ON_MATCH_HELP)] = OnMatch.SKIP,
    label: Annotated[
        str | None,
        typer.Option(
            help="Recruitment source of new residents (attribute recruitment_source); default: the file's name."
        ),
    ] = None,
) -> None:
    """Import residents; bad rows are reported by line while good rows go in."""
    from outreach import audit
    from outreach.audit import Actor
    from outreach.campaigns.parse_ahead import ParsingFailed
    from outreach.campaigns.recruitment import SOURCE_LENGTH
    from outreach.campaigns.resident_rows import ImportFileError, count_rows
    from outreach.campaigns.residents_import import import_residents
    from outreach.cli.progress_bars import on_terminal, progress_bar

    if label is not None and not (0 < len(label.strip()) <= SOURCE_LENGTH and label.isprintable()):
        raise fail(f"--label must be 1 to {SOURCE_LENGTH} printable characters")

    async def work(services: Services) -> None:
        total = count_rows(file) if on_terminal(console) else None  # piped: no bar, so no counting pass
        with progress_bar(console, "importing", total) as bar:
            report = await import_residents(
                services.sessions,
                file,
                region=(region or services.settings.default_region).upper(),
                clock=services.clock,
                age_bands=services.settings.age_bands,
                on_match=on_match,
                label=label.strip() if label else None,
                on_rows=bar.advance,
                pseudonym_secret=services.settings.pseudonym_key(),
            )
        details: dict[str, audit.DetailValue] = {
            "rows": report.rows,
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "rejected": len(report.errors),
            "on_match": on_match.value,
        }
        await audit.record_apart(
            services.sessions, Actor.cli(), audit.RESIDENTS_IMPORT, "residents", None, details, at=services.clock()
        )
        console.print(
            f"{report.rows} rows: {report.created} created, {report.updated} updated,"
            f" {report.unchanged} unchanged, {len(report.errors)} rejected"
        )
        for error in report.errors:
            errors.print(f"{file}:{error}", markup=False, highlight=False)
        if report.errors:
            raise typer.Exit(2)

    try:
        run_with_services(work)
    except ImportFileError as error:
        raise fail(str(error)) from None
    except ParsingFailed as error:
        raise fail(
            f"{file}: {error}\nThe batches stored before it stay; importing the file again skips them."
        ) from None
