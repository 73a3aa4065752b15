"""`outreach margins import FILE --name NAME | list | show NAME`: the city's population margins, which
samples are allocated by and results weighted to."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from outreach.cli.runner import console, errors, fail, load_settings, run_with_services, warnings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from outreach.bootstrap import Services
    from outreach.survey.margins import Margins

margins_app = typer.Typer(
    no_args_is_help=True,
    help="Population margins: residents per district, age band, ... (CSV dimension,value,population).",
)

SHOWN_UNMATCHED = 10  # values per dimension; the rest are summed


@margins_app.command("import")
def margins_import(
    file: Annotated[Path, typer.Argument(help="CSV, UTF-8: dimension,value,population (see README).")],
    name: Annotated[
        str, typer.Option("--name", help="Name the margins are used by; an existing name gets a new version.")
    ],
) -> None:
    """Import margins from a file; every problem is named by line and nothing is saved until there are none."""
    from outreach.survey.margins import JOINT, MarginsError, parse_margins
    from outreach.survey.margins_store import save_margins
    from storage.tables import MARGINS_NAME_LENGTH

    NAME = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._-]{{0,{MARGINS_NAME_LENGTH - 1}}}")
    if not NAME.fullmatch(name):
        raise fail(f"--name must be 1 to {MARGINS_NAME_LENGTH} of A-Z a-z 0-9 . _ -, starting with a letter or digit")
    try:
        text = file.read_bytes().decode("utf-8-sig")
    except OSError as error:
        raise fail(f"{file}: cannot read the file: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise fail(f"{file}: the file is not UTF-8 (byte {error.start}); save it as UTF-8") from None
    try:
        margins, notes = parse_margins(text, name, str(file), age_bands=load_settings().age_bands)
    except MarginsError as error:
        for problem in error.problems:
            errors.print(str(problem), markup=False, highlight=False)
        raise typer.Exit(2) from None

    async def work(services: Services) -> None:
        async with services.sessions() as session, session.begin():
            version = await save_margins(session, margins, source=file.name, now=services.clock())
        sizes = ", ".join(f"{dimension} ({len(values)} values)" for dimension, values in margins.dimensions.items())
        joint = "".join(f", joint cells {JOINT.join(dims)}" for dims in margins.joint)
        _say(f"margins '{name}' version {version} saved: {sizes}{joint}")
        for note in notes:
            warnings.print(f"note: {note}", markup=False, highlight=False)
        async with services.sessions() as session:
            await _print_unmatched(session, margins)

    run_with_services(work)


@margins_app.command("list")
def margins_list() -> None:
    """The margins there are: name, latest version, cells, the file they came from and when."""
    from storage.margins import MarginsRepository

    async def work(services: Services) -> None:
        async with services.sessions() as session:
            summaries = await MarginsRepository(session).summaries()
        if not summaries:
            _say("no margins yet: `outreach margins import FILE --name NAME` (or `outreach db upgrade`)")
            return
        width = max(len(summary.name) for summary in summaries)
        for summary in summaries:
            imported = summary.created_at.strftime("%Y-%m-%d %H:%M UTC")
            cells = f"version {summary.version}  {summary.cells} cells"
            _say(f"{summary.name:<{width}}  {cells}  {summary.source}  {imported}")

    run_with_services(work)


@margins_app.command("show")
def margins_show(name: Annotated[str, typer.Argument(help="The margins' name (see `outreach margins list`).")]) -> None:
    """Every dimension's values, populations and shares; joint cells; residents whose value matches none."""
    from outreach.survey.margins import MarginsError
    from outreach.survey.margins_store import load_margins
    from storage.margins import MarginsRepository

    async def work(services: Services) -> None:
        async with services.sessions() as session:
            margins = await load_margins(session, name)
            stored = await MarginsRepository(session).latest(name)
            assert stored is not None
            imported = stored.created_at.strftime("%Y-%m-%d %H:%M UTC")
            _say(f"{name}: version {stored.version}, from {stored.source}, imported {imported}")
            for dimension, populations in margins.dimensions.items():
                _print_dimension(margins, dimension, populations)
            for dims in margins.joint:
                _print_joint(margins, dims)
            await _print_unmatched(session, margins)

    try:
        run_with_services(work)
    except MarginsError as error:
        raise fail(str(error)) from None


def _print_dimension(margins: Margins, dimension: str, populations: Mapping[str, float]) -> None:
    shares = margins.shares(dimension)
    _say(f"\n{dimension}: {len(populations)} values, population {_count(margins.total(dimension))}")
    width = max(len(margins.label(dimension, value)) for value in populations)
    for value, population in populations.items():
        _say(f"  {margins.label(dimension, value):<{width}}  {_count(population):>12}  {shares[value]:6.1%}")


def _print_joint(margins: Margins, dims: tuple[str, ...]) -> None:
    from outreach.survey.margins import JOINT

    cells = margins.joint[dims]
    shares, _ = margins.joint_shares(dims)
    joined = JOINT.join(dims)
    _say(f"\n{joined}: {len(cells)} joint cells, population {_count(sum(cells.values()))}")
    width = max(len(margins.label(joined, JOINT.join(values))) for values in cells)
    for values, population in cells.items():
        label = margins.label(joined, JOINT.join(values))
        _say(f"  {label:<{width}}  {_count(population):>12}  {shares[values]:6.1%}")


async def _print_unmatched(session: AsyncSession, margins: Margins) -> None:
    """Per dimension, residents whose value matches no margin value: they are never dropped unseen."""
    from outreach.survey.margins import unmatched_values
    from storage.margins import resident_value_counts

    for dimension in margins.dimensions:
        unmatched = unmatched_values(margins, dimension, await resident_value_counts(session, dimension))
        if not unmatched:
            continue
        shown = [f"{value or '(none)'} {count}" for value, count in list(unmatched.items())[:SHOWN_UNMATCHED]]
        rest = sum(list(unmatched.values())[SHOWN_UNMATCHED:])
        others = f", {len(unmatched) - SHOWN_UNMATCHED} other values {rest}" if rest else ""
        warnings.print(
            f"residents whose {dimension} matches no margin ({sum(unmatched.values())}): {', '.join(shown)}{others}",
            markup=False,
            highlight=False,
        )


def _count(population: float) -> str:
    return f"{population:,.0f}" if population == int(population) else f"{population:,.2f}"


def _say(line: str) -> None:
    console.print(line, markup=False, highlight=False, soft_wrap=True)  # one line, however wide
