"""The export endpoints of /api/v1 (answers streamed as CSV or JSON Lines, and the data dictionary)
and their declarations."""

from __future__ import annotations

from aiohttp import web

from outreach import audit
from outreach.results.dictionary import DataDictionary, data_dictionary_model
from outreach.results.exports import ExportKind
from outreach.results.weighted import respondent_weights
from outreach.web.api.errors import ApiError
from outreach.web.api.models import ExportQuery
from outreach.web.api.registry import ApiRoute, Call
from outreach.web.api.weighting import WEIGHTS_CANNOT_BE_MADE, api_weighted, check_dimensions, weighting_request
from outreach.web.downloads import stream_answers


async def _export(call: Call, kind: ExportKind) -> web.StreamResponse:
    record = call.record
    query = call.query_as(ExportQuery)
    weights = None
    if query.weights is not None:
        request = weighting_request(query.weights, query.by, query.trim, call.services.settings)
        weights = await api_weighted(respondent_weights(call.services.sessions, record, request))
        check_dimensions(weights.by, call.services.settings)
    elif query.by is not None or query.trim is not None:
        raise ApiError(400, "invalid_parameter", "by and trim weight the export: name the margins with `weights`")
    details: dict[str, audit.DetailValue] = {"format": kind, "weights": query.weights}
    await audit.record_apart(
        call.services.sessions, call.actor, audit.EXPORT, "campaign", record.id, details, at=call.services.clock()
    )
    return await stream_answers(call.request, call.services, record, kind, weights=weights)


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
        query=ExportQuery,
        extra_errors={422: WEIGHTS_CANNOT_BE_MADE},
        media_type="text/csv",
        description="Streams every answer; the keys of a multi answer are joined by |. With `weights`, a last"
        " column `weight`: the respondent's weight to those margins.",
    ),
    ApiRoute(
        "GET",
        "/campaigns/{campaign_id}/export.jsonl",
        export_jsonl,
        "exportJsonl",
        "Export answers as JSON Lines",
        "exports",
        scope="responses:rows",
        query=ExportQuery,
        extra_errors={422: WEIGHTS_CANNOT_BE_MADE},
        media_type="application/x-ndjson",
        description="Streams every answer, one JSON object a line. With `weights`, each has a `weight`: the"
        " respondent's weight to those margins (null: left out of the weighting).",
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
