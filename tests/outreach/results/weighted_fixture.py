"""A small answered campaign whose weighted figures are worked out by hand (results, CLI, API and
exports tests share it).

Margins `city`: district Oliwa 600, Osowa 400 (shares 0.6 and 0.4). Ten respondents can be weighted:
2 in Oliwa (both yes, drawn with π = 1) and 8 in Osowa (yes, yes, no × 6; the first four drawn with
π = 0.5, the rest with π = 1); one more lives in "Mars", which the margins lack, and answered yes.
Post-stratified on district, Oliwa's two carry 0.6 × 10 / 2 = 3 each; Osowa's eight share 4 in
proportion to their base weights 1/π (2, 2, 2, 2, 1, 1, 1, 1 of 12): 2/3 each for π = 0.5, 1/3 each
for π = 1. Yes: 3 + 3 + 2/3 + 2/3 = 22/3 of 10, a weighted share of 0.7333…; unweighted 4/10.
Σw² = 9 + 9 + 4 × 4/9 + 4 × 1/9 = 18 + 20/9, so n_eff = 100 / (182/9) = 900/182 and the design
effect 182/90. Asked: 5 in Oliwa, 10 in Osowa, 1 in Mars (response rates 0.4 and 0.8).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import col

from flows.loader import load_campaign
from outreach.bootstrap import Services
from outreach.campaigns.commands import create_campaign
from outreach.survey.margins import Margins
from outreach.survey.margins_store import save_margins
from storage.address_keys import address_keys
from storage.tables import (
    CampaignRecord,
    CampaignSample,
    ContactAddress,
    Conversation,
    Resident,
    Response,
    SampledResident,
)

CITY = Margins(
    name="city",
    dimensions={"district": {"oliwa": 600.0, "osowa": 400.0}, "age_band": {"18-29": 500.0, "65+": 500.0}},
    labels={("district", "oliwa"): "Oliwa", ("district", "osowa"): "Osowa"},
)

CAMPAIGN = """
name: Park
languages: [pl]
channels: [sms]
questions:
  - {id: visits, type: yesno, text: {pl: "Czy bywasz w parku?"}}
  - {id: idea, type: text, text: {pl: "Co zmienić?"}}
"""

YES_SHARE = 22 / 30
EFFECTIVE_N = 900 / 182
DESIGN_EFFECT = 182 / 90
NOW = datetime(2027, 3, 2, 12, 0, tzinfo=UTC)

# (district, age band, π, answer or None when asked and silent)
PEOPLE: list[tuple[str, str, float, str | None]] = [
    ("Oliwa", "18-29", 1.0, "yes"),
    ("oliwa ", "65+", 1.0, "yes"),  # folded as margins fold: Oliwa
    *[("Oliwa", "65+", 1.0, None)] * 3,
    ("Osowa", "18-29", 0.5, "yes"),
    ("Osowa", "65+", 0.5, "yes"),
    ("Osowa", "18-29", 0.5, "no"),
    ("Osowa", "65+", 0.5, "no"),
    *[("Osowa", band, 1.0, "no") for band in ("18-29", "65+", "18-29", "65+")],
    *[("Osowa", "65+", 1.0, None)] * 2,
    ("Mars", "65+", 1.0, "yes"),
]


async def answered_city(services: Services, *, sampled: bool = True, campaign: str = CAMPAIGN) -> CampaignRecord:
    """The campaign above (or `campaign`, with the same questions), asked, answered and (when `sampled`)
    with its sample recorded."""
    async with services.sessions() as session, session.begin():
        await save_margins(session, CITY, source="test", now=NOW)
    record = await create_campaign(services.sessions, load_campaign(campaign), clock=services.clock)
    assert record.id is not None
    async with services.sessions() as session, session.begin():
        residents: list[dict[str, Any]] = [
            {
                "pseudonym": f"city{number:04d}",
                "language": "pl",
                "attributes": {"district": district, "age_band": band},
                "created_at": NOW,
                "updated_at": NOW,
            }
            for number, (district, band, _, _) in enumerate(PEOPLE)
        ]
        ids = list((await session.execute(insert(Resident).returning(col(Resident.id)), residents)).scalars())
        addresses = [
            {
                "resident_id": resident_id,
                "channel": "sms",
                **address_keys(session).columns("sms", f"+4860010{number:04d}"),
                "created_at": NOW,
            }
            for number, resident_id in enumerate(ids)
        ]
        contacts = list(
            (await session.execute(insert(ContactAddress).returning(col(ContactAddress.id)), addresses)).scalars()
        )
        await session.execute(
            insert(Conversation),
            [
                {
                    "campaign_id": record.id,
                    "resident_id": resident_id,
                    "contact_id": contact_id,
                    "respondent": f"p{resident_id:04d}",
                    "state": {},
                    "status": "active",
                    "started_at": NOW,
                    "updated_at": NOW,
                    "asked_at": NOW,
                }
                for resident_id, contact_id in zip(ids, contacts, strict=True)
            ],
        )
        if sampled:
            session.add(CampaignSample(campaign_id=record.id, seed=1, size=len(ids), drawn_at=NOW))
            await session.flush()
            await session.execute(
                insert(SampledResident),
                [
                    {"campaign_id": record.id, "resident_id": resident_id, "stratum": "", "inclusion_probability": p}
                    for resident_id, (_, _, p, _) in zip(ids, PEOPLE, strict=True)
                ],
            )
        answers = [
            {
                "campaign_id": record.id,
                "question_id": question,
                "resident_id": resident_id,
                "respondent": f"p{resident_id:04d}",
                "value": value,
                "channel": "sms",
                "answered_at": NOW,
                "language": "pl",
                "attributes": {"district": district, "age_band": band},
                "inclusion_probability": p if sampled else None,  # as the answer stores it (record_once)
            }
            for resident_id, (district, band, p, answer) in zip(ids, PEOPLE, strict=True)
            if answer is not None
            for question, value in (("visits", answer), ("idea", f"więcej ławek {resident_id}"))
        ]
        await session.execute(insert(Response), answers)
    return record
