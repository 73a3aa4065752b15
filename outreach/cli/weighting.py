"""The weighting options `outreach results` and `outreach export` share (--weights, --by, --trim,
--collapse, --thin), read into one request, the weighted figures they ask for, and the weighting's
errors said in one line."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import typer

from outreach.cli.runner import fail
from outreach.errors import CommandError

# The options are read by `results --help` and `export --help`: what the weighting uses is imported
# when a command weighs (tests/outreach/cli/test_lazy.py).
if TYPE_CHECKING:
    from flows.campaign import Campaign
    from outreach.results.weighted import RespondentWeights  # its module brings numpy
    from outreach.results.weighted_models import WeightedResults
    from outreach.results.weighting_request import WeightingRequest
    from storage.db import SessionFactory
    from storage.tables import CampaignRecord

T = TypeVar("T")

# The weighted figures (outreach.results.weighted) use numpy, which only --weights needs: imported by
# name when a command weighs, so that `results` and `export` start without numpy (issue 18), as
# outreach.results.results_back_figures does. Not a cycle: that module imports nothing of the CLI.
WEIGHTED = "outreach.results.weighted"

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
    from outreach.results.weighting_request import WeightingRequest, parse_collapse, parse_thin

    if margins is None:
        if by or trim is not None or collapse or thin is not None:
            raise fail("--by, --trim, --collapse and --thin weight results: name the margins with --weights NAME")
        return None
    dimensions = tuple(part.strip() for part in (by or "").split(",") if part.strip())
    try:
        return WeightingRequest(margins, dimensions, trim, parse_collapse(collapse or []), parse_thin(thin or "weight"))
    except ValueError as error:
        raise fail(str(error)) from None


async def weighted_results(
    sessions: SessionFactory, record: CampaignRecord, flow: Campaign, request: WeightingRequest, *, k: int
) -> WeightedResults:
    """outreach.results.weighted's weighted results; the weighting's errors exit with one line."""
    compute: Callable[..., Awaitable[WeightedResults]] = importlib.import_module(WEIGHTED).weighted_results
    return await weighted_or_fail(compute(sessions, record, flow, request, k=k))


async def respondent_weights(
    sessions: SessionFactory, record: CampaignRecord, request: WeightingRequest
) -> RespondentWeights:
    """outreach.results.weighted's weight per respondent; the weighting's errors exit with one line."""
    compute: Callable[..., Awaitable[RespondentWeights]] = importlib.import_module(WEIGHTED).respondent_weights
    return await weighted_or_fail(compute(sessions, record, request))


async def weighted_or_fail(work: Awaitable[T]) -> T:
    """`work`, with the margins' and the weighting's errors as command errors (said, not traced)."""
    from outreach.survey.margins import MarginsError
    from outreach.survey.weighting_error import WeightingError

    try:
        return await work
    except (MarginsError, WeightingError) as error:
        raise CommandError(str(error)) from None
