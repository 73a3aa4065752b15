"""POST /api/v1/residents: a batch in the residents-CSV fields; nothing about residents is read back."""

from __future__ import annotations

from sqlalchemy import select

from outreach.bootstrap import Services
from storage.address_keys import address_of
from storage.residents import ResidentRepository
from storage.tables import ContactAddress, Resident
from tests.factories import add_resident
from tests.outreach.web.api.conftest import AppClient
from tests.outreach.web.api.helpers import auth

CONSENT = {"consent_source": "city register", "consent_at": "2026-03-01T12:00:00+01:00"}


async def test_a_batch_goes_in_and_bad_residents_are_named_by_index(services: Services, api: AppClient) -> None:
    batch = {
        "residents": [
            {"phone": "600 100 200", "language": "pl", "district": "Orunia", **CONSENT},
            {"email": "Anna@Example.org", "telegram_chat_id": "12345", "language": "uk", **CONSENT},
            {"phone": "123", **CONSENT},
            {"district": "Oliwa", **CONSENT},
            {"phone": "+48600100201", "consent_source": "x" * 121, "consent_at": CONSENT["consent_at"]},
            {"phone": "+48600100202", "consent_source": "a\x00b", "consent_at": CONSENT["consent_at"]},
        ]
    }
    response = await api.post("/api/v1/residents", headers=await auth(services, "residents:write"), json=batch)
    assert response.status == 200
    body = await response.json()
    assert body["accepted"] == 2
    assert [(rejected["index"], rejected["message"].split(":")[0]) for rejected in body["rejected"]] == [
        (2, "phone is not a valid number (region PL is assumed without a +prefix)"),
        (3, "no address"),
        (4, "consent_source is longer than 120 characters"),
        (5, "fields cannot contain the NUL character"),
    ]
    assert "600" not in await response.text()
    async with services.sessions() as session:
        addresses = sorted(
            (c.channel, address_of(session, c)) for c in (await session.execute(select(ContactAddress))).scalars()
        )
        residents = list((await session.execute(select(Resident).order_by(Resident.id))).scalars())  # type: ignore[arg-type]
    assert addresses == [("email", "anna@example.org"), ("sms", "+48600100200"), ("telegram", "12345")]  # canonical
    recruited = {"recruited_via": "import", "recruitment_source": "api"}
    assert [(r.language, r.attributes) for r in residents] == [
        ("pl", {"district": "Orunia", **recruited}),
        ("uk", recruited),
    ]


async def test_the_answer_never_tells_a_known_address_from_a_new_one(services: Services, api: AppClient) -> None:
    """residents:write cannot probe the register: one resident known, one new, the same answer."""
    await add_resident(services, phone="+48600100200", district="Orunia")
    headers = await auth(services, "residents:write")
    answers = []
    for phone in ("+48600100200", "+48600100201"):
        batch = {"residents": [{"phone": phone, "email": "caller@example.org", "district": "Oliwa", **CONSENT}]}
        response = await api.post("/api/v1/residents", headers=headers, json=batch)
        answers.append((response.status, await response.json()))
    assert answers[0] == answers[1] == (200, {"accepted": 1, "rejected": []})


async def test_a_known_phone_does_not_take_a_new_email_nor_new_attributes(services: Services, api: AppClient) -> None:
    known = await add_resident(services, phone="+48600100200", district="Orunia")
    batch = {"residents": [{"phone": "+48600100200", "email": "caller@example.org", "district": "Oliwa", **CONSENT}]}
    response = await api.post("/api/v1/residents", headers=await auth(services, "residents:write"), json=batch)
    assert response.status == 200
    async with services.sessions() as session:
        addresses = [(c.resident_id, c.channel) for c in (await session.execute(select(ContactAddress))).scalars()]
        resident = await session.get_one(Resident, known.id)
    assert addresses == [(known.id, "sms")]
    assert resident.attributes == {"district": "Orunia"}
    assert resident.updated_at == known.updated_at


async def test_only_an_admin_may_choose_to_update_or_merge(services: Services, api: AppClient) -> None:
    known = await add_resident(services, phone="+48600100200", district="Orunia")
    batch = {
        "residents": [{"phone": "+48600100200", "email": "new@example.org", "district": "Oliwa", **CONSENT}],
        "on_match": "merge",
        "label": "school survey list",
    }
    refused = await api.post("/api/v1/residents", headers=await auth(services, "residents:write"), json=batch)
    assert refused.status == 403
    merged = await api.post("/api/v1/residents", headers=await auth(services, "admin"), json=batch)
    assert (merged.status, await merged.json()) == (200, {"accepted": 1, "rejected": []})
    async with services.sessions() as session:
        channels = sorted(c.channel for c in (await session.execute(select(ContactAddress))).scalars())
        resident = await session.get_one(Resident, known.id)
    assert channels == ["email", "sms"]
    assert resident.attributes["district"] == "Oliwa"


async def test_bad_lines_of_a_big_batch_are_named_and_the_rest_go_in(services: Services, api: AppClient) -> None:
    """The API's side of a hostile file: over-long and unreadable fields, each rejected by index."""
    good = [{"phone": f"+48600{100000 + number}", **CONSENT} for number in range(6)]
    batch = {
        "residents": [
            good[0],
            {**good[1], "telegram_chat_id": "7" * 400},
            {**good[2], "district": "x" * 128 * 1024},
            good[3],
            {**good[4], "recruited_via": "self-enrolment"},
            good[5],
        ]
    }
    response = await api.post("/api/v1/residents", headers=await auth(services, "residents:write"), json=batch)
    assert response.status == 200
    body = await response.json()
    assert body["accepted"] == 3
    assert [rejected["index"] for rejected in body["rejected"]] == [1, 2, 4]
    assert "777" not in await response.text() and "xxx" not in await response.text()
    async with services.sessions() as session:
        assert await ResidentRepository(session).count() == 3


async def test_a_malformed_batch_is_422(services: Services, api: AppClient) -> None:
    headers = await auth(services, "residents:write")
    resident = {"phone": "+48600100200", **CONSENT}
    bodies: list[object] = [
        {"residents": []},
        {"residents": [{"phone": 600100200}]},
        {"people": []},
        [1, 2],
        {"residents": [resident], "label": "a\x00b"},
        {"residents": [resident], "label": "x" * 121},
        {"residents": [resident], "on_match": "overwrite"},
    ]
    for body in bodies:
        response = await api.post("/api/v1/residents", headers=headers, json=body)
        assert response.status == 422, body


async def test_age_bands_are_the_settings(services: Services, api: AppClient) -> None:
    batch = {
        "residents": [
            {"phone": "+48600100200", "age_band": "30 - 44", **CONSENT},
            {"phone": "+48600100201", "age_band": "71", **CONSENT},  # an age becomes its band
            {"phone": "+48600100202", "age_band": "45-59", **CONSENT},
        ]
    }
    response = await api.post("/api/v1/residents", headers=await auth(services, "residents:write"), json=batch)
    body = await response.json()
    assert body["accepted"] == 2
    assert body["rejected"] == [
        {
            "index": 2,
            "message": "age_band is neither one of the age bands 18-29, 30-44, 45-64, 65+ (OUTREACH_AGE_BANDS)"
            " nor an age in them",
        }
    ]
    async with services.sessions() as session:
        residents = list((await session.execute(select(Resident).order_by(Resident.id))).scalars())  # type: ignore[arg-type]
    assert [resident.attributes["age_band"] for resident in residents] == ["30-44", "65+"]


async def test_a_resident_under_16_is_rejected_by_index_and_never_stored(services: Services, api: AppClient) -> None:
    """Issue 20: nobody under 16 is enrolled, through the API as through a file."""
    batch = {
        "residents": [
            {"phone": "+48600100200", "age_band": "15", **CONSENT},
            {"phone": "+48600100201", "age_band": "18-29", **CONSENT},
        ]
    }
    response = await api.post("/api/v1/residents", headers=await auth(services, "residents:write"), json=batch)
    body = await response.json()
    assert body == {
        "accepted": 1,
        "rejected": [{"index": 0, "message": "age_band is under 16: residents under 16 are not enrolled"}],
    }
    async with services.sessions() as session:
        assert await ResidentRepository(session).count() == 1
