"""A campaign definition in a request body, YAML or JSON, read as the CLI reads a campaign file
(flows.loader): the same validation, every problem located as {at, path, line, column, message};
then what the tables cannot hold and what this service's senders cannot send."""

from __future__ import annotations

from aiohttp import web

from flows.campaign import Campaign
from flows.loader import CampaignFileError, load_campaign
from outreach.campaigns.checks import sender_problems
from outreach.settings import Settings
from outreach.web.api.errors import ApiError
from outreach.web.api.storable import campaign_problems
from outreach.web.json_bodies import YAML_TYPES, RefusedJson, json_document

DEFINITION_TYPES = ("application/json", *sorted(YAML_TYPES))


async def campaign_definition(request: web.Request, settings: Settings) -> Campaign:
    """The body's campaign, or an ApiError: 415 for another media type, 400 for a body that is not
    text (or not JSON when typed so), 422 with each problem located."""
    content_type = request.content_type
    if content_type not in DEFINITION_TYPES:
        raise ApiError(
            415,
            "unsupported_media_type",
            f"send the campaign as application/json or application/yaml, not {content_type or 'untyped'}",
        )
    raw = await request.read()
    if content_type == "application/json":
        try:
            await json_document(request)  # the JSON guards every body of this API passes
        except RefusedJson as refused:
            raise ApiError(
                400, "invalid_json", refused.message, details=[{"at": refused.at, "message": refused.message}]
            ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        message = f"the body is not UTF-8 (byte {error.start})"
        raise ApiError(400, "invalid_body_encoding", message) from None
    try:
        # JSON is YAML 1.2's flow style: one reader gives both their lines and columns.
        flow = load_campaign(text, source="body")
    except CampaignFileError as error:
        details = [
            {
                "at": problem.path or "(body)",
                "path": problem.path,
                "line": problem.line,
                "column": problem.column,
                "message": problem.message,
            }
            for problem in error.errors
        ]
        raise ApiError(422, "invalid_body", "the campaign does not validate", details=details) from None
    problems = campaign_problems(flow)
    problems += [{"at": "channels", "path": "channels", "message": text} for text in sender_problems(flow, settings)]
    if problems:
        raise ApiError(422, "invalid_body", "the campaign cannot be stored or sent here", details=problems)
    return flow
