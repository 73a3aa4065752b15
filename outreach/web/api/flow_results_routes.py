"""GET /api/v1/campaigns/{id}/flow-results: the campaign's Flow Results package as a zip
(datapackage.json and responses.json), streamed as it is compressed."""

from __future__ import annotations

from aiohttp import web

from outreach import audit
from outreach.web.api.registry import ApiRoute, Call
from outreach.web.downloads import stream_flow_results


async def flow_results(call: Call) -> web.StreamResponse:
    record = call.record
    details: dict[str, audit.DetailValue] = {"format": "flow-results"}
    await audit.record_apart(
        call.services.sessions, call.actor, audit.EXPORT, "campaign", record.id, details, at=call.services.clock()
    )
    return await stream_flow_results(call.request, call.services, record)


FLOW_RESULTS_ROUTES: list[ApiRoute] = [
    ApiRoute(
        "GET",
        "/campaigns/{campaign_id}/flow-results",
        flow_results,
        "exportFlowResults",
        "Export answers as a Flow Results package",
        "exports",
        scope="responses:rows",
        media_type="application/zip",
        description="Streams a zip of a Flow Results package (FLOIP Flow Results 1.1.0): `datapackage.json`,"
        " the Data Package descriptor with the questions, their types and choices, and `responses.json`, every"
        " answer as a row [timestamp, row id, contact id, session id, question id, response, metadata] with the"
        " respondent's pseudonym as contact and session id, the time cut to the hour or day, and the channel,"
        " language and allowlisted attributes as metadata.",
    ),
]
