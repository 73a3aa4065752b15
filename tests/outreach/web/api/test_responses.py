"""GET /api/v1/campaigns/{id}/responses: the payload, cursor pagination, incremental sync over the
commit order (a late-committed row is never skipped), and filters."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from outreach.bootstrap import Services
from outreach.web.api.cursors import encode_position
from storage.answer_feed import Position
from storage.responses import ResponseRepository
from storage.tables import Response
from tests.conftest import ManualClock
from tests.factories import add_resident
from tests.outreach.web.api.conftest import AppClient
from tests.outreach.web.api.helpers import PEOPLE, auth, bulk_answers, draft, past_the_horizon, seeded_survey


def responses_url(campaign_id: int) -> str:
    return f"/api/v1/campaigns/{campaign_id}/responses"


async def get_page(api: AppClient, campaign_id: int, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = await api.get(responses_url(campaign_id), headers=headers, params=params)
    assert response.status == 200, await response.text()
    page: dict[str, Any] = await response.json()
    return page


async def sync_all(api: AppClient, campaign_id: int, headers: dict[str, str], **params: Any) -> tuple[list[Any], str]:
    """Page through from `since` (or the start) until caught up; the answers and the watermark."""
    answers: list[Any] = []
    page = await get_page(api, campaign_id, headers, **params)
    answers += page["data"]
    while page["next_cursor"] is not None:
        page = await get_page(api, campaign_id, headers, cursor=page["next_cursor"], limit=params.get("limit", 100))
        answers += page["data"]
    return answers, page["watermark"]


async def test_answers_carry_pseudonyms_and_allowlisted_attributes_only(services: Services, api: AppClient) -> None:
    await add_resident(services, phone="+48600100209", district="Orunia", street="Długa 5", name="Anna")
    campaign_id = await seeded_survey(services)
    await add_resident(services, phone="+48600100209", street="Długa 5")  # attributes kept, never published
    response = await api.get(responses_url(campaign_id), headers=await auth(services, "responses:rows"))
    text = await response.text()
    page = await response.json()
    assert [(answer["question"], answer["value"]) for answer in page["data"]] == [
        ("visits", "weekly"),
        ("rating", 5),
        ("idea", "więcej ławek"),
        ("visits", "never"),
        ("rating", 3),
        ("idea", "more benches"),
        ("visits", "weekly"),
        ("rating", 4),
        ("idea", "nic"),
    ]
    first = page["data"][0]
    assert set(first) == {
        "campaign",
        "question",
        "respondent",
        "value",
        "channel",
        "answered_at",
        "language",
        "attributes",
    }
    assert first["campaign"] == "park-orunski"
    assert first["respondent"].startswith("p") and len(first["respondent"]) == 21
    assert first["attributes"] == {"district": "Orunia", "age_band": "30-44", "sex": None}
    assert first["channel"] == "sms" and first["language"] == "pl"
    assert len({answer["respondent"] for answer in page["data"]}) == len(PEOPLE)
    for secret in ("+486001", "600100", "Długa", "Anna", "street"):
        assert secret not in text
    assert page["next_cursor"] is None


async def test_choice_answers_never_carry_the_words_of_the_reply(services: Services, api: AppClient) -> None:
    campaign_id = await draft(services)
    resident = await add_resident(services, phone="+48600100211")
    assert resident.id is not None
    async with services.sessions() as session, session.begin():
        for question, value in (("visits", "co tydzień chyba"), ("rating", "pięć"), ("idea", "ławki")):
            await ResponseRepository(session).record_once(
                campaign_id=campaign_id,
                question_id=question,
                resident_id=resident.id,
                respondent="p-test",
                value=value,
                channel="sms",
                inbound_event_id=None,
                answered_at=datetime(2027, 3, 2, tzinfo=UTC),
                language="pl",
                attributes={},
            )
    await past_the_horizon(services)
    page = await get_page(api, campaign_id, await auth(services, "responses:rows"))
    assert [(answer["question"], answer["value"]) for answer in page["data"]] == [("idea", "ławki")]


async def test_cursor_pages_cover_every_answer_once_and_since_gets_only_new_ones(
    services: Services, api: AppClient
) -> None:
    campaign_id = await draft(services)
    await bulk_answers(services, campaign_id, 125)
    headers = await auth(services, "responses:rows")
    first = await get_page(api, campaign_id, headers, limit=100)
    assert len(first["data"]) == 100 and first["next_cursor"] is not None
    answers, watermark = await sync_all(api, campaign_id, headers, limit=100)
    assert len(answers) == 250
    assert len({(answer["respondent"], answer["question"]) for answer in answers}) == 250

    nothing_new = await get_page(api, campaign_id, headers, since=watermark)
    assert nothing_new == {"data": [], "next_cursor": None, "watermark": watermark}

    await bulk_answers(services, campaign_id, 10, first=1000)
    new, later = await sync_all(api, campaign_id, headers, since=watermark)
    assert len(new) == 20
    assert not {answer["respondent"] for answer in new} & {answer["respondent"] for answer in answers}
    assert later != watermark


async def test_a_row_committed_late_is_still_synced(services: Services, api: AppClient, database_url: str) -> None:
    """Transaction A inserts an answer and stays open; B inserts one after it and commits. A reader
    who went by ids would see B's higher id, move past it, and never see A's. The commit-ordered
    watermark hands out neither while A is open (PostgreSQL), and both, in order, once it commits."""
    on_postgres = database_url.startswith("postgresql")
    campaign_id = await draft(services)
    early, late = await add_resident(services, phone="+48600100221"), await add_resident(services, phone="+48600100222")
    headers = await auth(services, "responses:rows")
    _, watermark = await sync_all(api, campaign_id, headers)  # also the token's one write (last_used_at)

    async def answer(session: Any, resident_id: int | None, value: str) -> None:
        assert resident_id is not None
        await ResponseRepository(session).record_once(
            campaign_id=campaign_id,
            question_id="visits",
            resident_id=resident_id,
            respondent=f"p{resident_id}",
            value=value,
            channel="sms",
            inbound_event_id=None,
            answered_at=services.clock(),
            language="pl",
            attributes={},
        )

    async with services.sessions() as first_session, first_session.begin():
        await answer(first_session, early.id, "weekly")  # A: open until the block ends
        if on_postgres:  # SQLite serialises writers: B could not even begin while A is open
            async with services.sessions() as second_session, second_session.begin():
                await answer(second_session, late.id, "never")  # B: committed now
        seen_while_open, watermark = await sync_all(api, campaign_id, headers, since=watermark)
        assert seen_while_open == []  # B is withheld while A, older, may still commit
    await past_the_horizon(services)
    seen_after, _ = await sync_all(api, campaign_id, headers, since=watermark)
    expected = [f"p{early.id}", f"p{late.id}"] if on_postgres else [f"p{early.id}"]
    assert [answer["respondent"] for answer in seen_after] == expected

    async with services.sessions() as session:
        rows = (await session.execute(select(Response).order_by(col(Response.id)))).scalars().all()
    if on_postgres:
        a, b = rows
        assert a.txid is not None and b.txid is not None and 0 < a.txid < b.txid  # each carries its transaction
        assert a.id is not None and b.id is not None and a.id < b.id  # A took the lower id yet committed last
    else:
        assert [row.txid for row in rows] == [0]


async def test_filters_by_question_channel_language_and_allowlisted_attributes(
    services: Services, api: AppClient
) -> None:
    campaign_id = await seeded_survey(services)
    headers = await auth(services, "responses:rows")

    async def values(**params: str) -> list[Any]:
        page = await get_page(api, campaign_id, headers, **params)
        return [answer["value"] for answer in page["data"]]

    assert await values(question="visits") == ["weekly", "never", "weekly"]
    assert await values(question="rating", district="Orunia") == [5, 3]
    assert await values(question="idea", language="en") == ["more benches"]
    assert await values(district="Wrzeszcz", age_band="30-44", question="visits") == ["weekly"]
    assert await values(channel="email") == []
    assert await values(district="Nowhere") == []


@pytest.mark.parametrize(
    ("params", "code", "message"),
    [
        ({"phone": "+48600100201"}, "invalid_filter", "cannot filter by 'phone'"),
        ({"street": "Długa"}, "invalid_filter", "cannot filter by 'street'"),
        ({"question": "nope"}, "invalid_filter", "the campaign has no question 'nope'"),
        ({"channel": "fax"}, "invalid_filter", "unknown channel"),
        ({"language": "de"}, "invalid_filter", "unknown language"),
        ({"limit": "0"}, "invalid_parameter", "invalid query parameters"),
        ({"limit": "lots"}, "invalid_parameter", "invalid query parameters"),
        ({"cursor": "bm9wZQ"}, "invalid_cursor", "'cursor' is not a cursor of this API"),
        ({"since": "!!"}, "invalid_cursor", "'since' is not a cursor of this API"),
        ({"cursor": encode_position(999, Position(0, 1))}, "invalid_cursor", "belongs to another campaign"),
        (
            {"cursor": encode_position(1, Position()), "since": encode_position(1, Position())},
            "invalid_parameter",
            "either cursor or since",
        ),
    ],
)
async def test_bad_filters_and_cursors_are_400_with_a_clear_message(
    services: Services, api: AppClient, params: dict[str, str], code: str, message: str
) -> None:
    campaign_id = await draft(services)
    assert campaign_id == 1
    response = await api.get(responses_url(campaign_id), headers=await auth(services, "responses:rows"), params=params)
    assert response.status == 400
    error = (await response.json())["error"]
    assert error["code"] == code
    assert message in error["message"]


async def test_a_repeated_parameter_is_refused(services: Services, api: AppClient) -> None:
    campaign_id = await draft(services)
    response = await api.get(
        responses_url(campaign_id) + "?question=visits&question=idea", headers=await auth(services, "responses:rows")
    )
    assert response.status == 400
    assert (await response.json())["error"]["message"] == "give the parameter 'question' once"


async def test_answers_keep_the_attributes_their_respondent_had_when_giving_them(
    services: Services, api: AppClient
) -> None:
    campaign_id = await seeded_survey(services)
    phone, language, district, _ = PEOPLE[0]
    await add_resident(services, phone=phone, language="uk", district="Oliwa", age_band="60+")  # a later import
    headers = await auth(services, "responses:rows")
    first = (await get_page(api, campaign_id, headers))["data"][0]
    assert (first["language"], first["attributes"]) == (
        language,
        {"district": district, "age_band": "30-44", "sex": None},
    )
    assert (await get_page(api, campaign_id, headers, district="Oliwa"))["data"] == []
    assert len((await get_page(api, campaign_id, headers, district=district, language=language))["data"]) == 3


async def test_answer_times_are_given_to_the_hour_or_the_day(
    services: Services, api: AppClient, clock: ManualClock
) -> None:
    clock.advance(minutes=14, seconds=3, microseconds=123456)  # 10:14:03.123456 UTC
    campaign_id = await seeded_survey(services)
    headers = await auth(services, "responses:rows")
    for precision, expected in (("hour", "2027-03-02T10:00:00Z"), ("day", "2027-03-02T00:00:00Z")):
        object.__setattr__(services.settings, "row_time_precision", precision)
        page = await get_page(api, campaign_id, headers)
        assert {answer["answered_at"] for answer in page["data"]} == {expected}, precision
