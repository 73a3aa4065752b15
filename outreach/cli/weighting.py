"""The weighting options `outreach results` and `outreach export` share (--weights, --by, --trim,
--collapse, --thin), read into one request, and their errors said in one line."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

import typer

from outreach.campaigns.commands import CampaignCommandError
from outreach.cli.runner import fail
from outreach.results.weighting import WeightingRequest, parse_collapse, parse_thin
from outreach.survey.margins import MarginsError
from outreach.survey.weights import WeightingError

T = TypeVar("T")

WEIGHTS_OPTION = typer.Option("--weights", help="Weight to these margins (see `outreach margins list`).")
BY_OPTION = typer.Option("--by", help="Dimensions to weight on, comma-separated; default: all the margins have.")
TRIM_OPTION = typer.Option("--trim", help="Cap weights at this many times the mean weight (re-raked), e.g. 5.")
COLLAPSE_OPTION = typer.Option(
    "--collapse", help="Weight a thin value together with a neighbour: DIMENSION:VALUE=NEIGHBOUR (repeatable)."
)
THIN_OPTION = typer.Option(
    "--thin",
    help="Values with fewer than 10 respondents: weight (like the rest, with a warning) or leave (left unweighted:"
    " weighted to their share of the sample).",
)


def weighting_request(
    margins: str | None, by: str | None, trim: float | None, collapse: list[str] | None, thin: str | None = None
) -> WeightingRequest | None:
    """The request the options make (None without --weights); a misuse exits with one line."""
    if margins is None:
        if by or trim is not None or collapse or thin is not None:
            raise fail("--by, --trim, --collapse and --thin weight results: name the margins with --weights NAME")
        return None
    dimensions = tuple(part.strip() for part in (by or "").split(",") if part.strip())
    try:
        return WeightingRequest(margins, dimensions, trim, parse_collapse(collapse or []), parse_thin(thin or "weight"))
    except ValueError as error:
        raise fail(str(error)) from None


async def weighted_or_fail(work: Awaitable[T]) -> T:
    """`work`, with the margins' and the weighting's errors as command errors (said, not traced)."""
    try:
        return await work
    except (MarginsError, WeightingError) as error:
        raise CampaignCommandError(str(error)) from None
