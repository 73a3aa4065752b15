"""The export endpoints of /api/v1 (answers streamed as CSV or JSON Lines, and the data dictionary)
and their declarations."""

from __future__ import annotations

import logging

from aiohttp import web

from outreach.results.dictionary import DataDictionary, data_dictionary_model
from outreach.results.exports import ExportKind, export_lines
from outreach.web.api.registry import ApiRoute, Call

log = logging.getLogger(__name__)

EXPORT_CHUNK = 64 * 1024


async def _export(call: Call, kind: ExportKind) -> web.StreamResponse:
    record = call.record
    flow = call.services.definitions.flow(record)
    content_type = "text/csv; charset=utf-8" if kind == "csv" else "application/x-ndjson; charset=utf-8"
    response = web.StreamResponse(
        headers={
            "Content-Type": content_type,
            "Content-Disposition": f'attachment; filename="{record.slug}.{kind}"',
        }
    )
    await response.prepare(call.request)
    chunk: list[str] = []
    size = 0
    try:
        settings = call.services.settings
        lines = export_lines(
            call.services.sessions,
            record,
            flow,
            settings.export_attributes,
            kind,
            time_precision=settings.row_time_precision,
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


async def export_csv(call: Call) -> web.StreamResponse:
    return await _export(call, "csv")


async def export_jsonl(call: Call) -> web.StreamResponse:
    return await _export(call, "jsonl")


async def dictionary(call: Call) -> DataDictionary:
    record = call.record
    flow = call.services.definitions.flow(record)
    return data_dictionary_model(flow, call.services.settings.export_attributes, campaign=record.slug)


EXPORT_ROUTES: list[ApiRoute] = [
    ApiRoute(
        "GET",
        "/campaigns/{campaign_id}/export.csv",
        export_csv,
        "exportCsv",
        "Export answers as CSV",
        "exports",
        scope="responses:rows",
        media_type="text/csv",
        description="Streams every answer; the keys of a multi answer are joined by |.",
    ),
    ApiRoute(
        "GET",
        "/campaigns/{campaign_id}/export.jsonl",
        export_jsonl,
        "exportJsonl",
        "Export answers as JSON Lines",
        "exports",
        scope="responses:rows",
        media_type="application/x-ndjson",
        description="Streams every answer, one JSON object a line.",
    ),
    ApiRoute(
        "GET",
        "/campaigns/{campaign_id}/dictionary",
        dictionary,
        "getDataDictionary",
        "Data dictionary of the answers",
        "exports",
        scope="responses:read",
        response=DataDictionary,
        description="Fields, questions with their texts per language, option keys and labels, value types.",
    ),
]
