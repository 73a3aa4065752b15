"""Answers streamed to a browser or another system: CSV or JSON Lines, and Flow Results packages as a
zip compressed on the fly. One place for the API's export routes and the officials' export buttons;
the caller checks who may download and records it in the audit log first."""

from __future__ import annotations

import logging

from aiohttp import web

from outreach.bootstrap import Services
from outreach.results.exports import ExportKind, export_chunks
from outreach.results.flow_results import flow_results_files, package_name
from outreach.results.streamed_zip import zip_chunks
from outreach.results.weighted import RespondentWeights
from storage.tables import CampaignRecord

log = logging.getLogger(__name__)

EXPORT_CHUNK = 64 * 1024


async def stream_answers(
    request: web.Request,
    services: Services,
    record: CampaignRecord,
    kind: ExportKind,
    *,
    weights: RespondentWeights | None = None,
) -> web.StreamResponse:
    content_type = "text/csv; charset=utf-8" if kind == "csv" else "application/x-ndjson; charset=utf-8"
    response = web.StreamResponse(
        headers={
            "Content-Type": content_type,
            "Content-Disposition": f'attachment; filename="{record.slug}.{kind}"',
        }
    )
    await response.prepare(request)
    chunk: list[str] = []
    size = 0
    try:
        settings = services.settings
        lines = export_chunks(
            services.sessions,
            record,
            services.definitions.flow(record),
            settings.export_attributes,
            kind,
            time_precision=settings.row_time_precision,
            weights=weights,
        )
        async for line in lines:
            chunk.append(line)
            size += len(line)
            if size >= EXPORT_CHUNK:
                await response.write("".join(chunk).encode())
                chunk, size = [], 0
        await response.write("".join(chunk).encode())
        await response.write_eof()
    except ConnectionResetError:
        log.info("export of campaign %s: the client went away", record.id)
    return response


async def stream_flow_results(request: web.Request, services: Services, record: CampaignRecord) -> web.StreamResponse:
    settings = services.settings
    files = flow_results_files(
        services.sessions,
        record,
        services.definitions.flow(record),
        settings.export_attributes,
        time_precision=settings.row_time_precision,
    )
    response = web.StreamResponse(
        headers={
            "Content-Type": "application/zip",
            "Content-Disposition": f'attachment; filename="{package_name(record.slug)}-flow-results.zip"',
        }
    )
    await response.prepare(request)
    try:
        async for chunk in zip_chunks(files, written_at=services.clock()):
            await response.write(chunk)
        await response.write_eof()
    except ConnectionResetError:
        log.info("flow results of campaign %s: the client went away", record.id)
    return response
