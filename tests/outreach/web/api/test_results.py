"""Aggregated results per question, and the breakdown by attribute with small cells suppressed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import col

from outreach.bootstrap import Services
from storage.tables import Resident, Response
from tests.factories import add_resident
from tests.outreach.helpers import launch, reply
from tests.outreach.web.api.conftest import AppClient
from tests.outreach.web.api.helpers import PEOPLE as SURVEY_PEOPLE
from tests.outreach.web.api.helpers import SURVEY_YAML, auth, draft, seeded_survey


async def results(api: AppClient, services: Services, campaign_id: int, **params: str) -> dict[str, Any]:
    response = await api.get(
        f"/api/v1/campaigns/{campaign_id}/results", headers=await auth(services, "responses:read"), params=params
    )
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def test_results_count_answers_per_question_and_keep_texts_out(services: Services, api: AppClient) -> None:
    campaign_id = await seeded_survey(services)
    body = await results(api, services, campaign_id)
    assert (body["campaign"], body["contacted"], body["respondents"], body["response_rate"]) == (
        "park-orunski",
        3,
        3,
        1.0,
    )
    visits, rating, idea = body["questions"]
    assert visits == {
        "id": "visits",
        "type": "choice",
        "answered": 3,
        "unanswered": 0,
        "counts": {"weekly": 2, "never": 1},
        "mean": None,
        "median": None,
        "min": None,
        "max": None,
    }
    assert rating["counts"] == {"1": 0, "2": 0, "3": 1, "4": 1, "5": 1} and rating["mean"] == 4.0
    assert idea["answered"] == 3 and idea["counts"] is None
    assert body["breakdown"] is None
    # Residents' words are counted per question, and shown only as free text: grouped, scrubbed.
    assert "benches" not in str(body["questions"]) and "ławek" not in str(body["questions"])
    [free_text] = body["free_text"]
    assert (free_text["id"], free_text["answered"], free_text["groups"], free_text["ungrouped"]) == ("idea", 3, [], 3)
    assert free_text["ungrouped_examples"] == ["więcej ławek", "more benches", "nic"]


async def answers_by_district(services: Services, campaign_id: int, people: list[tuple[str | None, str]]) -> None:
    """One resident per (district, answer to `visits`)."""
    now = datetime(2027, 3, 2, 12, 0, tzinfo=UTC)
    async with services.sessions() as session, session.begin():
        for index, (district, value) in enumerate(people):
            attributes = {"district": district} if district else {}
            resident_id = (
                await session.execute(
                    insert(Resident).returning(col(Resident.id)),
                    {
                        "pseudonym": f"r{index}",
                        "language": "pl",
                        "attributes": attributes,
                        "created_at": now,
                        "updated_at": now,
                    },
                )
            ).scalar_one()
            await session.execute(
                insert(Response),
                {
                    "campaign_id": campaign_id,
                    "question_id": "visits",
                    "resident_id": resident_id,
                    "respondent": f"p{index}",
                    "value": value,
                    "channel": "sms",
                    "answered_at": now,
                    "language": "pl",
                    "attributes": attributes,
                },
            )


PEOPLE: list[tuple[str | None, str]] = (
    [("Orunia", "weekly")] * 8
    + [("Orunia", "never")] * 2
    + [("Wrzeszcz", "weekly")] * 6
    + [("Wrzeszcz", "never")] * 6
    + [("Oliwa", "weekly")] * 3
    + [("Chełm", "never")] * 4
    + [(None, "weekly")] * 5
)


async def test_breakdown_suppresses_small_cells_and_what_would_reveal_them(services: Services, api: AppClient) -> None:
    campaign_id = await draft(services)
    await answers_by_district(services, campaign_id, PEOPLE)
    body = await results(api, services, campaign_id, by="district")
    assert body["questions"][0]["counts"] == {"weekly": 22, "never": 12}  # the published totals
    breakdown = body["breakdown"]
    assert (breakdown["by"], breakdown["k"]) == ("district", 5)
    groups = {group["value"]: group for group in breakdown["groups"]}
    assert list(groups) == ["Chełm", "Oliwa", "Orunia", "Wrzeszcz", None]
    # Oliwa (3) and Chełm (4) are too small; together they are 7, so no other group needs to go.
    for small in ("Oliwa", "Chełm"):
        assert groups[small] == {"value": small, "suppressed": True, "respondents": None, "questions": []}
    orunia = groups["Orunia"]["questions"][0]
    # 2 said never: suppressed; weekly (8) too, or answered (10) minus weekly would give the 2 back.
    assert orunia == {
        "id": "visits",
        "suppressed": False,
        "answered": 10,
        "counts": {"weekly": None, "never": None},
        "mean": None,
    }
    assert groups["Wrzeszcz"]["questions"][0]["counts"] == {"weekly": 6, "never": 6}
    assert groups[None]["respondents"] == 5 and groups[None]["questions"][0]["counts"] == {"weekly": 5, "never": 0}
    # The withheld cells of each answer sum to at least k: the totals cannot single one out.
    shown_never = sum(g["questions"][0]["counts"]["never"] or 0 for g in groups.values() if not g["suppressed"])
    assert 12 - shown_never >= 5


async def test_k_is_a_setting_and_by_takes_only_allowlisted_attributes(services: Services, api: AppClient) -> None:
    campaign_id = await draft(services)
    await answers_by_district(services, campaign_id, PEOPLE)
    object.__setattr__(services.settings, "small_cell_k", 2)
    groups = {g["value"]: g for g in (await results(api, services, campaign_id, by="district"))["breakdown"]["groups"]}
    assert groups["Oliwa"]["respondents"] == 3 and groups["Orunia"]["questions"][0]["counts"] == {
        "weekly": 8,
        "never": 2,
    }
    by_language = await results(api, services, campaign_id, by="language")
    assert [group["value"] for group in by_language["breakdown"]["groups"]] == ["pl"]
    headers = await auth(services, "responses:read")
    for attribute in ("phone", "street", "pseudonym"):
        refused = await api.get(f"/api/v1/campaigns/{campaign_id}/results", headers=headers, params={"by": attribute})
        assert refused.status == 400
        assert f"cannot break results down by '{attribute}'" in (await refused.json())["error"]["message"]


async def test_everything_is_suppressed_when_the_campaign_itself_is_small(services: Services, api: AppClient) -> None:
    campaign_id = await seeded_survey(services)
    body = await results(api, services, campaign_id, by="district")
    assert all(group["suppressed"] for group in body["breakdown"]["groups"])


async def test_breakdowns_count_answers_under_the_attributes_given_with_them(
    services: Services, api: AppClient
) -> None:
    campaign_id = await seeded_survey(services)
    object.__setattr__(services.settings, "small_cell_k", 1)
    for phone, *_ in SURVEY_PEOPLE:  # a later import moves everybody to Oliwa and to Ukrainian
        await add_resident(services, phone=phone, language="uk", district="Oliwa")
    by_district = (await results(api, services, campaign_id, by="district"))["breakdown"]["groups"]
    assert [(group["value"], group["respondents"]) for group in by_district] == [("Orunia", 2), ("Wrzeszcz", 1)]
    by_language = (await results(api, services, campaign_id, by="language"))["breakdown"]["groups"]
    assert [(group["value"], group["respondents"]) for group in by_language] == [("en", 1), ("pl", 2)]


async def test_results_tell_self_enrolled_respondents_from_imported_ones(services: Services, api: AppClient) -> None:
    """recruited_via is a breakdown of its own, whatever OUTREACH_EXPORT_ATTRIBUTES lists."""
    object.__setattr__(services.settings, "small_cell_k", 1)
    recruited = (("+48600100201", "import"), ("+48600100202", "self-enrolment"), ("+48600100203", "self-enrolment"))
    for phone, via in recruited:
        await add_resident(services, phone=phone, recruited_via=via)
    campaign_id = await launch(services, SURVEY_YAML)
    for phone, _ in recruited:
        await reply(services, phone, "1")
    groups = (await results(api, services, campaign_id, by="recruited_via"))["breakdown"]["groups"]
    assert [(group["value"], group["respondents"]) for group in groups] == [("import", 1), ("self-enrolment", 2)]
