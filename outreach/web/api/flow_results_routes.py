"""GET /api/v1/campaigns/{id}/flow-results: the campaign's Flow Results package as a zip
(datapackage.json and responses.json), streamed as it is compressed."""

from __future__ import annotations

import logging

from aiohttp import web

from outreach import audit
from outreach.results.flow_results import flow_results_files, package_name
from outreach.results.streamed_zip import zip_chunks
from outreach.web.api.registry import ApiRoute, Call

log = logging.getLogger(__name__)


async def flow_results(call: Call) -> web.StreamResponse:
    record = call.record
    settings = call.services.settings
    files = flow_results_files(
        call.services.sessions,
        record,
        call.services.definitions.flow(record),
        settings.export_attributes,
        time_precision=settings.row_time_precision,
    )
    details: dict[str, audit.DetailValue] = {"format": "flow-results"}
    await audit.record_apart(
        call.services.sessions, call.actor, audit.EXPORT, "campaign", record.id, details, at=call.services.clock()
    )
    response = web.StreamResponse(
        headers={
            "Content-Type": "application/zip",
            "Content-Disposition": f'attachment; filename="{package_name(record.slug)}-flow-results.zip"',
        }
    )
    await response.prepare(call.request)
    try:
        async for chunk in zip_chunks(files, written_at=call.services.clock()):
            await response.write(chunk)
        await response.write_eof()
    except ConnectionResetError:
        log.info("flow results of campaign %s: the client went away", record.id)
    return response


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
