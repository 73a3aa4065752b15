"""The answers endpoint of /api/v1 (cursor pagination and incremental sync, with filters) and its
declaration."""

from __future__ import annotations

from flows import model as flow_model
from flows.campaign import Campaign
from flows.languages import LANGUAGES
from outreach.results.public_values import PublicValues, public_time
from outreach.web.api.cursors import encode_position, feed_start
from outreach.web.api.errors import ApiError
from outreach.web.api.models import Answer, AnswerPage, ResponsesQuery
from outreach.web.api.registry import ApiRoute, Call
from storage.answer_feed import answers_page
from storage.db import read_session

MAX_FILTER_LENGTH = 200


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
    after = feed_start(query.cursor, query.since, record.id)
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
                answered_at=public_time(row.answered_at, call.services.settings.row_time_precision),
                language=row.language,
                attributes=row.attributes,
            )
        )
    end = encode_position(record.id, page.end(after))
    return AnswerPage(data=data, next_cursor=end if page.has_more else None, watermark=end)


_SYNC = """Answers in commit order. Page with `cursor` (from `next_cursor`) until `next_cursor` is null, keep
`watermark`, and later pass it as `since` to get only what was committed after it; an answer committed
late (its transaction began earlier) is never skipped. Filters: question, channel, language, and the
allowlisted attributes by name (e.g. `district=Orunia`); any other parameter is a 400."""

RESPONSE_ROUTES: list[ApiRoute] = [
    ApiRoute(
        "GET",
        "/campaigns/{campaign_id}/responses",
        list_responses,
        "listResponses",
        "Answers of a campaign (cursor pagination, incremental sync)",
        "answers",
        scope="responses:rows",
        query=ResponsesQuery,
        response=AnswerPage,
        attribute_filters=True,
        description=_SYNC,
    ),
]
