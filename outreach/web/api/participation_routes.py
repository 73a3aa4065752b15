"""Who is (not) being heard, over the API: coverage of the register against margins and the
usual-suspects meter over a date range (aggregates only, small cells suppressed; the same JSON as
`outreach coverage|participation --format json`, less the splits on attributes the allowlist leaves
out: outreach.web.api.public_attributes). Both span every campaign, so a token bound to one campaign
may not read them."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from outreach.participation.models import Coverage, ParticipationMeter
from outreach.participation.reports import coverage_report, participation_report
from outreach.survey.margins import MarginsError
from outreach.survey.margins_store import DEFAULT_MARGINS
from outreach.web.api.errors import ApiError
from outreach.web.api.public_attributes import published_attributes, published_meter_splits
from outreach.web.api.registry import ApiRoute, Call
from storage.tables import MARGINS_NAME_LENGTH


class CoverageQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    margins: str = Field(
        default=DEFAULT_MARGINS,
        min_length=1,
        max_length=MARGINS_NAME_LENGTH,
        pattern=r"^[^\x00]*$",  # no store keeps NUL: a 400 here, not the store's refusal
        description="The population margins to measure against (by name).",
    )


class ParticipationQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: date = Field(description="First day (UTC) of the campaigns' launch, YYYY-MM-DD.")
    until: date = Field(description="Last day (UTC), included.")


async def coverage_endpoint(call: Call) -> Coverage:
    query = call.query_as(CoverageQuery)
    settings = call.services.settings
    # Counts per value leave the service only for attributes that may (as results broken down).
    allowed = published_attributes(settings)
    try:
        return await coverage_report(call.services.sessions, query.margins, k=settings.small_cell_k, only=allowed)
    except MarginsError as error:
        raise ApiError(
            400, "invalid_parameter", str(error), details=[{"at": "margins", "message": str(error)}]
        ) from None


async def participation_endpoint(call: Call) -> ParticipationMeter:
    query = call.query_as(ParticipationQuery)
    if query.since > query.until:
        message = f"since {query.since} is after until {query.until}"
        raise ApiError(400, "invalid_parameter", message, details=[{"at": "since", "message": message}])
    settings = call.services.settings
    return await participation_report(
        call.services.sessions,
        query.since,
        query.until,
        k=settings.small_cell_k,
        splits=published_meter_splits(settings),
    )


PARTICIPATION_ROUTES: list[ApiRoute] = [
    ApiRoute(
        "GET",
        "/coverage",
        coverage_endpoint,
        "getCoverage",
        "Residents reachable per stratum of the margins, and what each recruitment source brought",
        "answers",
        scope="responses:read",
        query=CoverageQuery,
        response=Coverage,
        unbound_only=True,
        description="Per stratum (each value of each allowlisted dimension of the margins): residents recorded,"
        " reachable and consented on any channel and on each, as a share of the population, thinnest first;"
        " per recruitment source, the residents it brought into each stratum. Counts of fewer than k are"
        " withheld (null) with what would let them be worked out.",
    ),
    ApiRoute(
        "GET",
        "/participation",
        participation_endpoint,
        "getParticipation",
        "The usual-suspects meter over the campaigns launched in a date range",
        "answers",
        scope="responses:read",
        query=ParticipationQuery,
        response=ParticipationMeter,
        unbound_only=True,
        description="The share of all answers (a campaign answered counts once) given by the most active 1%"
        " and 10% of respondents, the Gini coefficient of answers per respondent and the share of first-time"
        " respondents in each campaign, overall and split by channel, recruitment source and district (only"
        " when allowlisted); groups of fewer than k respondents are suppressed, and so is a top share whose"
        " top group holds fewer than k.",
    ),
]
