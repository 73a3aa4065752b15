"""The endpoints of /api/v1, and the table that declares them (see `outreach.web.api.registry`)."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import statistics
from datetime import UTC, datetime

from aiohttp import web

from flows import model as flow_model
from flows.answer_labels import answer_rows, question_types
from flows.campaign import Campaign
from flows.languages import LANGUAGES
from outreach.campaigns.commands import CampaignCommandError, create_campaign, launch_campaign
from outreach.campaigns.residents_import import RowError, parse_row
from outreach.results.dictionary import DataDictionary, data_dictionary_model
from outreach.results.exports import ExportKind, export_lines
from outreach.results.public_values import PublicValues
from outreach.web.api.auth import issue_token
from outreach.web.api.disclosure import QuestionShape, protected_groups
from outreach.web.api.errors import ApiError
from outreach.web.api.models import (
    Answer,
    AnswerPage,
    Breakdown,
    CampaignInfo,
    CampaignList,
    CampaignProgress,
    CampaignResults,
    IssuedTokenInfo,
    LaunchReport,
    QuestionBrief,
    QuestionFigures,
    RejectedResident,
    ResidentsBatch,
    ResidentsImported,
    ResponsesQuery,
    ResultsQuery,
    TokenInfo,
    TokenList,
    TokenRequest,
)
from outreach.web.api.registry import ANY_SCOPE, ApiRoute, Call
from storage.answer_feed import START, Position, answers_page, campaign_counts
from storage.campaigns import CampaignRepository, ConversationRepository
from storage.db import read_session
from storage.outbox import OutboxRepository
from storage.read_models import QuestionResult, campaign_results, campaign_results_by
from storage.residents import AddressConflict, ResidentRepository
from storage.tables import ApiToken, CampaignRecord
from storage.tokens import TokenRepository

log = logging.getLogger(__name__)

MAX_FILTER_LENGTH = 200
EXPORT_CHUNK = 64 * 1024
# Column widths of the tables, checked here so that a too-long value is a 422, not a database error.
MAX_CAMPAIGN_NAME = 200
MAX_QUESTION_ID = 64


# --- campaigns -------------------------------------------------------------------------------


def campaign_info(call: Call, record: CampaignRecord) -> CampaignInfo:
    flow = call.services.definitions.flow(record)
    assert record.id is not None
    return CampaignInfo(
        id=record.id,
        slug=record.slug,
        name=record.name,
        status=record.status,
        languages=list(flow.languages),
        channels=list(flow.channels),
        questions=[QuestionBrief(id=question.id, type=question.type) for question in flow.questions],
        created_at=record.created_at,
        starts_at=record.starts_at,
        closes_at=record.closes_at,
        launched_at=record.launched_at,
        closed_at=record.closed_at,
    )


async def list_campaigns(call: Call) -> CampaignList:
    assert call.token is not None
    async with read_session(call.services.sessions) as session:
        records = await CampaignRepository(session).all()
    bound = call.token.campaign_id
    return CampaignList(data=[campaign_info(call, record) for record in records if bound in (None, record.id)])


async def read_campaign(call: Call) -> CampaignInfo:
    return campaign_info(call, call.record)


async def campaign_progress(call: Call) -> CampaignProgress:
    record = call.record
    assert record.id is not None
    async with read_session(call.services.sessions) as session:
        counts = await campaign_counts(session, record.id)
        conversations = await ConversationRepository(session).count_by_status(record.id)
        messages = await OutboxRepository(session).count_by_status(record.id)
    return CampaignProgress(
        id=record.id,
        slug=record.slug,
        status=record.status,
        contacted=counts.contacted,
        respondents=counts.respondents,
        answers=counts.answers,
        response_rate=counts.respondents / counts.contacted if counts.contacted else 0.0,
        conversations=conversations,
        messages=messages,
    )


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for key, item in value.items() for text in (*_strings(key), *_strings(item))]
    if isinstance(value, list | tuple):
        return [text for item in value for text in _strings(item)]
    return []


def _storable(flow: Campaign) -> list[dict[str, str]]:
    """What the tables cannot hold, as validation problems."""
    problems = []
    if len(flow.name) > MAX_CAMPAIGN_NAME:
        problems.append({"at": "name", "message": f"at most {MAX_CAMPAIGN_NAME} characters"})
    for index, question in enumerate(flow.questions):
        if len(question.id) > MAX_QUESTION_ID:
            problems.append({"at": f"questions.{index}.id", "message": f"at most {MAX_QUESTION_ID} characters"})
    if any("\x00" in text for text in _strings(flow.model_dump(mode="json"))):
        problems.append({"at": "(body)", "message": "texts cannot contain the NUL character"})
    for name in ("start", "close"):
        moment = getattr(flow.schedule, name)
        if moment is not None and not _storable_moment(moment):
            problems.append({"at": f"schedule.{name}", "message": "out of the range of dates the store keeps"})
    return problems


def _storable_moment(moment: datetime) -> bool:
    try:
        moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return False
    return True


async def create_campaign_endpoint(call: Call) -> CampaignInfo:
    flow = call.body_as(Campaign)
    problems = _storable(flow)
    if problems:
        raise ApiError(422, "invalid_body", "the campaign cannot be stored", details=problems)
    record = await create_campaign(call.services.sessions, flow, clock=call.services.clock)
    return campaign_info(call, record)


async def launch_campaign_endpoint(call: Call) -> LaunchReport:
    services = call.services
    try:
        report = await launch_campaign(
            services.sessions,
            str(call.record.id),
            clock=services.clock,
            spread=services.spread,
            pseudonym_secret=services.settings.pseudonym_key(),
        )
    except CampaignCommandError as error:
        raise ApiError(409, "conflict", str(error)) from None
    return LaunchReport(id=report.campaign_id, status=report.status, conversations_started=report.conversations_started)


# --- answers ---------------------------------------------------------------------------------


def encode_position(campaign_id: int, position: Position) -> str:
    raw = json.dumps([1, campaign_id, position.txid, position.id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_position(token: str, campaign_id: int, parameter: str) -> Position:
    invalid = ApiError(400, "invalid_cursor", f"'{parameter}' is not a cursor of this API; start without it")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        version, owner, txid, row_id = json.loads(raw)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
        raise invalid from None
    numbers = (version, owner, txid, row_id)
    if any(isinstance(number, bool) or not isinstance(number, int) for number in numbers) or version != 1:
        raise invalid
    if not (0 <= txid < 2**63 and 0 <= row_id < 2**63):
        raise invalid
    if owner != campaign_id:
        raise ApiError(400, "invalid_cursor", f"'{parameter}' belongs to another campaign")
    return Position(txid, row_id)


def _answer_filters(call: Call, query: ResponsesQuery, flow: Campaign) -> dict[str, str]:
    attributes = call.services.settings.export_attributes
    unknown = sorted(set(call.extra_query) - set(attributes))
    if unknown:
        allowed = ", ".join(["question", "channel", "language", *attributes])
        raise ApiError(
            400,
            "invalid_filter",
            f"cannot filter by '{unknown[0]}': filters are {allowed} (addresses and other attributes never leave"
            " the service)",
        )
    for name, value in call.extra_query.items():
        if not value or len(value) > MAX_FILTER_LENGTH:
            raise ApiError(400, "invalid_filter", f"'{name}' takes 1 to {MAX_FILTER_LENGTH} characters")
    if query.question is not None and query.question not in {question.id for question in flow.questions}:
        known = ", ".join(question.id for question in flow.questions)
        raise ApiError(400, "invalid_filter", f"the campaign has no question '{query.question}'; it has {known}")
    if query.channel is not None and query.channel not in flow_model.CHANNELS:
        raise ApiError(400, "invalid_filter", f"unknown channel; use one of {', '.join(flow_model.CHANNELS)}")
    if query.language is not None and query.language not in LANGUAGES:
        raise ApiError(400, "invalid_filter", f"unknown language; use one of {', '.join(LANGUAGES)}")
    return dict(call.extra_query)


async def list_responses(call: Call) -> AnswerPage:
    query = call.query_as(ResponsesQuery)
    record = call.record
    assert record.id is not None
    if query.cursor is not None and query.since is not None:
        raise ApiError(400, "invalid_parameter", "give either cursor or since, not both")
    given = query.cursor if query.cursor is not None else query.since
    parameter = "cursor" if query.cursor is not None else "since"
    after = decode_position(given, record.id, parameter) if given is not None else START
    flow = call.services.definitions.flow(record)
    filters = _answer_filters(call, query, flow)
    attributes = call.services.settings.export_attributes
    async with read_session(call.services.sessions) as session:
        page = await answers_page(
            session,
            record.id,
            after=after,
            limit=query.limit,
            attributes=attributes,
            question=query.question,
            channel=query.channel,
            language=query.language,
            attribute_equals=filters,
        )
    public = PublicValues(flow)
    data = []
    for row in page.rows:
        value = public(row.question_id, row.value)
        if value is None:
            continue
        data.append(
            Answer(
                campaign=record.slug,
                question=row.question_id,
                respondent=row.respondent,
                value=value,
                channel=row.channel,
                answered_at=row.answered_at,
                language=row.language,
                attributes=row.attributes,
            )
        )
    end = encode_position(record.id, page.end(after))
    return AnswerPage(data=data, next_cursor=end if page.has_more else None, watermark=end)


# --- results ---------------------------------------------------------------------------------


def small_cell_k(call: Call) -> int:
    return call.services.settings.small_cell_k


def _figures(question: flow_model.Question, result: QuestionResult, language: str) -> QuestionFigures:
    counts = None
    if question.type not in ("number", "text"):
        counts = {key: result.counts[key] for key, _ in answer_rows(question, language)}
    numbers = result.numbers if question.type in ("number", "scale") else []
    summary = question.type == "number" and bool(numbers)
    return QuestionFigures(
        id=question.id,
        type=question.type,
        answered=result.answered,
        unanswered=result.unanswered,
        counts=counts,
        mean=statistics.fmean(numbers) if numbers else None,
        median=statistics.median(numbers) if summary else None,
        min=min(numbers) if summary else None,
        max=max(numbers) if summary else None,
    )


async def campaign_results_endpoint(call: Call) -> CampaignResults:
    query = call.query_as(ResultsQuery)
    record = call.record
    assert record.id is not None
    flow = call.services.definitions.flow(record)
    allowed = ["language", *call.services.settings.export_attributes]
    if query.by is not None and query.by not in allowed:
        raise ApiError(
            400, "invalid_parameter", f"cannot break results down by '{query.by}'; use one of {', '.join(allowed)}"
        )
    kinds = question_types(flow)
    language = flow.default_language
    async with read_session(call.services.sessions) as session:
        figures = await campaign_results(session, record.id, kinds)
        groups = await campaign_results_by(session, record.id, kinds, query.by) if query.by else None
    breakdown = None
    if groups is not None and query.by is not None:
        k = small_cell_k(call)
        shapes = [
            QuestionShape(
                question.id,
                question.type,
                [] if question.type in ("number", "text") else [key for key, _ in answer_rows(question, language)],
            )
            for question in flow.questions
        ]
        breakdown = Breakdown(by=query.by, k=k, groups=protected_groups(groups, shapes, k))
    return CampaignResults(
        campaign=record.slug,
        contacted=figures.contacted,
        respondents=figures.respondents,
        response_rate=figures.response_rate,
        questions=[
            _figures(question, figures.questions.get(question.id) or QuestionResult(question.id), language)
            for question in flow.questions
        ],
        breakdown=breakdown,
    )


# --- exports ---------------------------------------------------------------------------------


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
        lines = export_lines(call.services.sessions, record, flow, call.services.settings.export_attributes, kind)
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


# --- residents -------------------------------------------------------------------------------


def _row_problem(record: dict[str, str | None]) -> str | None:
    for key, value in record.items():
        if "\x00" in key or (value is not None and "\x00" in value):
            return "fields cannot contain the NUL character"
    return None


async def import_residents_endpoint(call: Call) -> ResidentsImported:
    batch = call.body_as(ResidentsBatch)
    services = call.services
    region = (batch.region or services.settings.default_region).upper()
    report = ResidentsImported(created=0, updated=0, rejected=[])
    async with services.sessions() as session, session.begin():
        residents = ResidentRepository(session)
        for index, given in enumerate(batch.residents):
            problem = _row_problem(given)
            fields: dict[str | None, str | None] = {key: value for key, value in given.items()}
            row = RowError(index, problem) if problem else parse_row(index, fields, region=region)
            if isinstance(row, RowError):
                report.rejected.append(RejectedResident(index=index, message=row.message))
                continue
            if any(address.consent_at and not _storable_moment(address.consent_at) for address in row.addresses):
                report.rejected.append(RejectedResident(index=index, message="consent_at is out of range"))
                continue
            try:
                async with session.begin_nested():
                    _, created = await residents.upsert(
                        addresses=row.addresses, language=row.language, attributes=row.attributes, now=services.clock()
                    )
            except AddressConflict as conflict:
                report.rejected.append(RejectedResident(index=index, message=str(conflict)))
                continue
            if created:
                report.created += 1
            else:
                report.updated += 1
    return report


# --- tokens ----------------------------------------------------------------------------------


def token_info(token: ApiToken) -> TokenInfo:
    assert token.id is not None
    return TokenInfo(
        id=token.id,
        prefix=token.prefix,
        label=token.label,
        scopes=list(token.scopes),
        campaign_id=token.campaign_id,
        created_at=token.created_at,
        revoked_at=token.revoked_at,
        last_used_at=token.last_used_at,
    )


async def current_token(call: Call) -> TokenInfo:
    assert call.token is not None
    return token_info(call.token)


async def list_tokens(call: Call) -> TokenList:
    async with read_session(call.services.sessions) as session:
        tokens = await TokenRepository(session).all()
    return TokenList(data=[token_info(token) for token in tokens])


async def create_token(call: Call) -> IssuedTokenInfo:
    request = call.body_as(TokenRequest)
    services = call.services
    if request.campaign_id is not None:
        async with read_session(services.sessions) as session:
            if await session.get(CampaignRecord, request.campaign_id) is None:
                raise ApiError(404, "not_found", f"no campaign {request.campaign_id}")
    issued = await issue_token(
        services.sessions,
        scopes=list(request.scopes),
        label=request.label,
        now=services.clock(),
        campaign_id=request.campaign_id,
    )
    return IssuedTokenInfo(**token_info(issued.record).model_dump(), token=issued.token)


async def revoke_token(call: Call) -> TokenInfo:
    assert call.token is not None
    token_id = call.path_ids["token_id"]
    if token_id == call.token.id:
        raise ApiError(409, "conflict", "a token cannot revoke itself; use another admin token or the CLI")
    services = call.services
    async with services.sessions() as session, session.begin():
        tokens = TokenRepository(session)
        await tokens.revoke(token_id, now=services.clock())
        token = await tokens.get(token_id)
    if token is None:
        raise ApiError(404, "not_found", f"no token {token_id}")
    return token_info(token)


# --- the table -------------------------------------------------------------------------------

CAMPAIGN_EXAMPLE = {
    "name": "Park Oruński — what next?",
    "languages": ["pl", "en"],
    "channels": ["sms", "email"],
    "audience": {"where": {"district": ["Orunia-Św. Wojciech-Lipce"]}},
    "schedule": {"quiet_hours": "21:00-08:00"},
    "answer_within": "48h",
    "intro": {"pl": "Miasto Gdańsk pyta o Park Oruński. STOP kończy.", "en": "The City of Gdańsk asks. STOP ends."},
    "questions": [
        {
            "id": "visits",
            "type": "choice",
            "text": {"pl": "Jak często bywasz w parku?", "en": "How often do you visit the park?"},
            "options": [
                {"key": "weekly", "text": {"pl": "co tydzień", "en": "every week"}},
                {"key": "never", "text": {"pl": "wcale", "en": "never"}},
            ],
            "next": {"never": "why_not"},
        },
        {"id": "rating", "type": "scale", "min": 1, "max": 5, "text": {"pl": "Oceń park", "en": "Rate the park"}},
        {"id": "why_not", "type": "text", "text": {"pl": "Co by Cię zachęciło?", "en": "What would make you come?"}},
    ],
    "outro": {"pl": "Dziękujemy!", "en": "Thank you!"},
}
RESIDENTS_EXAMPLE = {
    "residents": [
        {
            "phone": "+48600100200",
            "language": "pl",
            "district": "Orunia-Św. Wojciech-Lipce",
            "age_band": "30-44",
            "consent_source": "city register",
            "consent_at": "2026-03-01T12:00:00+01:00",
        }
    ]
}
TOKEN_EXAMPLE = {"label": "open-data portal", "scopes": ["responses:read"]}

_SYNC = """Answers in commit order. Page with `cursor` (from `next_cursor`) until `next_cursor` is null, keep
`watermark`, and later pass it as `since` to get only what was committed after it; an answer committed
late (its transaction began earlier) is never skipped. Filters: question, channel, language, and the
allowlisted attributes by name (e.g. `district=Orunia`); any other parameter is a 400."""

ROUTES: list[ApiRoute] = [
    ApiRoute(
        "GET",
        "/token",
        current_token,
        "currentToken",
        "The token making the request",
        "tokens",
        scope=ANY_SCOPE,
        response=TokenInfo,
        description="Its scopes and campaign: a cheap way to check a token. Any valid token.",
    ),
    ApiRoute(
        "GET",
        "/campaigns",
        list_campaigns,
        "listCampaigns",
        "List campaigns",
        "campaigns",
        scope="campaigns:read",
        response=CampaignList,
        description="A token bound to one campaign sees only that campaign.",
    ),
    ApiRoute(
        "POST",
        "/campaigns",
        create_campaign_endpoint,
        "createCampaign",
        "Create a campaign (draft)",
        "campaigns",
        scope="campaigns:write",
        body=Campaign,
        body_example=CAMPAIGN_EXAMPLE,
        response=CampaignInfo,
        status=201,
        unbound_only=True,
        description="The body is a campaign definition (the campaign file's format, as JSON).",
    ),
    ApiRoute(
        "GET",
        "/campaigns/{campaign_id}",
        read_campaign,
        "getCampaign",
        "Read a campaign",
        "campaigns",
        scope="campaigns:read",
        response=CampaignInfo,
    ),
    ApiRoute(
        "GET",
        "/campaigns/{campaign_id}/status",
        campaign_progress,
        "getCampaignStatus",
        "Status and counts of a campaign",
        "campaigns",
        scope="campaigns:read",
        response=CampaignProgress,
    ),
    ApiRoute(
        "POST",
        "/campaigns/{campaign_id}/launch",
        launch_campaign_endpoint,
        "launchCampaign",
        "Launch a campaign",
        "campaigns",
        scope="campaigns:write",
        response=LaunchReport,
        conflict="the campaign is closed, paused, or its close time has passed",
        description="Starts conversations with its audience now, or schedules them for `schedule.start`."
        " Running it again asks only residents not asked yet.",
    ),
    ApiRoute(
        "GET",
        "/campaigns/{campaign_id}/responses",
        list_responses,
        "listResponses",
        "Answers of a campaign (cursor pagination, incremental sync)",
        "answers",
        scope="responses:read",
        query=ResponsesQuery,
        response=AnswerPage,
        attribute_filters=True,
        description=_SYNC,
    ),
    ApiRoute(
        "GET",
        "/campaigns/{campaign_id}/results",
        campaign_results_endpoint,
        "getResults",
        "Aggregated results per question",
        "answers",
        scope="responses:read",
        query=ResultsQuery,
        response=CampaignResults,
        description="With `by`, a breakdown per value of that attribute in which every cell of fewer"
        " than k respondents (and whatever would let one be worked out) is suppressed.",
    ),
    ApiRoute(
        "GET",
        "/campaigns/{campaign_id}/export.csv",
        export_csv,
        "exportCsv",
        "Export answers as CSV",
        "exports",
        scope="responses:read",
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
        scope="responses:read",
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
    ApiRoute(
        "POST",
        "/residents",
        import_residents_endpoint,
        "importResidents",
        "Add or update residents",
        "residents",
        scope="residents:write",
        body=ResidentsBatch,
        body_example=RESIDENTS_EXAMPLE,
        response=ResidentsImported,
        unbound_only=True,
        description="Up to 1000 residents in the residents-CSV fields; good ones go in, bad ones are"
        " reported by index (naming the field, never its value). Nothing about residents is read back.",
    ),
    ApiRoute(
        "GET",
        "/tokens",
        list_tokens,
        "listTokens",
        "List API tokens",
        "tokens",
        scope="admin",
        response=TokenList,
        unbound_only=True,
    ),
    ApiRoute(
        "POST",
        "/tokens",
        create_token,
        "createToken",
        "Create an API token",
        "tokens",
        scope="admin",
        body=TokenRequest,
        body_example=TOKEN_EXAMPLE,
        response=IssuedTokenInfo,
        status=201,
        unbound_only=True,
        extra_errors={404: "No campaign by that campaign_id."},
        description="The token is in this answer only; the service keeps its hash.",
    ),
    ApiRoute(
        "DELETE",
        "/tokens/{token_id}",
        revoke_token,
        "revokeToken",
        "Revoke an API token",
        "tokens",
        scope="admin",
        response=TokenInfo,
        unbound_only=True,
        conflict="a token cannot revoke itself",
    ),
]
