"""POST /api/v1/residents: a batch in the residents-CSV fields; nothing about residents is read back."""

from __future__ import annotations

from sqlalchemy import select

from outreach.bootstrap import Services
from storage.tables import ContactAddress, Resident
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
    assert (body["created"], body["updated"]) == (2, 0)
    assert [(rejected["index"], rejected["message"].split(":")[0]) for rejected in body["rejected"]] == [
        (2, "phone is not a valid number (region PL is assumed without a +prefix)"),
        (3, "no address"),
        (4, "consent_source is longer than 120 characters"),
        (5, "fields cannot contain the NUL character"),
    ]
    assert "600" not in await response.text()
    async with services.sessions() as session:
        addresses = sorted((c.channel, c.address) for c in (await session.execute(select(ContactAddress))).scalars())
        residents = list((await session.execute(select(Resident).order_by(Resident.id))).scalars())  # type: ignore[arg-type]
    assert addresses == [("email", "Anna@example.org"), ("sms", "+48600100200"), ("telegram", "12345")]
    assert [(r.language, r.attributes) for r in residents] == [("pl", {"district": "Orunia"}), ("uk", {})]

    again = {"residents": [{"phone": "+48600100200", "district": "Wrzeszcz", **CONSENT}], "region": "pl"}
    updated = await (
        await api.post("/api/v1/residents", headers=await auth(services, "residents:write"), json=again)
    ).json()
    assert (updated["created"], updated["updated"]) == (0, 1)


async def test_a_malformed_batch_is_422(services: Services, api: AppClient) -> None:
    headers = await auth(services, "residents:write")
    bodies: list[object] = [{"residents": []}, {"residents": [{"phone": 600100200}]}, {"people": []}, [1, 2]]
    for body in bodies:
        response = await api.post("/api/v1/residents", headers=headers, json=body)
        assert response.status == 422, body
