"""`?weights=&by=&trim=` of the results and export endpoints (and the results' `collapse=&thin=`): the
weighting request they make, the dimensions the API may weight on (those it may break results down
by), and the weighting's errors as API errors at the parameter at fault."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import TypeVar

from outreach.results.weighting_request import Thin, WeightingRequest, parse_collapse
from outreach.settings import Settings
from outreach.survey.margins import MarginsError
from outreach.survey.weighting_error import WeightingError
from outreach.web.api.errors import ApiError

T = TypeVar("T")

WEIGHTS_CANNOT_BE_MADE = (
    "cannot_weight: the weights cannot be made (an empty stratum, margins that cannot be met, nobody to weight)."
)


def _allowed(settings: Settings) -> list[str]:
    return list(dict.fromkeys(["language", *settings.export_attributes]))


def check_dimensions(dimensions: Sequence[str], settings: Settings) -> None:
    """Weighting publishes counts per value: only attributes that may leave the service qualify."""
    allowed = _allowed(settings)
    refused = [dimension for dimension in dimensions if dimension not in allowed]
    if refused:
        message = f"cannot weight by '{refused[0]}'; use one of {', '.join(allowed)}"
        raise ApiError(400, "invalid_parameter", message, details=[{"at": "by", "message": message}])


def weighting_request(
    margins: str,
    by: str | None,
    trim: float | None,
    settings: Settings,
    *,
    collapse: str | None = None,
    thin: Thin | None = None,
) -> WeightingRequest:
    dimensions = tuple(part.strip() for part in (by or "").split(",") if part.strip())
    check_dimensions(dimensions, settings)
    try:
        collapsed = parse_collapse([part for part in (collapse or "").split(",") if part.strip()])
    except ValueError as error:
        message = str(error).replace("--collapse", "collapse")
        raise ApiError(400, "invalid_parameter", message, details=[{"at": "collapse", "message": message}]) from None
    return WeightingRequest(margins, dimensions, trim, collapsed, thin or "weight")


async def api_weighted(work: Awaitable[T]) -> T:
    """`work`, with unknown margins or dimensions a 400 at `weights` or `by`, and weights that cannot
    be made (an empty cell, nobody to weight) a 422 saying why."""
    try:
        return await work
    except MarginsError as error:
        at = "weights" if "no margins named" in str(error) else "by"
        raise ApiError(400, "invalid_parameter", str(error), details=[{"at": at, "message": str(error)}]) from None
    except WeightingError as error:
        if str(error).startswith("cannot collapse"):  # a value or dimension the margins lack: the parameter's fault
            details = [{"at": "collapse", "message": str(error)}]
            raise ApiError(400, "invalid_parameter", str(error), details=details) from None
        raise ApiError(422, "cannot_weight", str(error)) from None
