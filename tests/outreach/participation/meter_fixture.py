"""A small history of consultations whose meter is worked out by hand (the pure, storage, CLI and API
tests share it).

Six campaigns, one yes/no question each: `old` (launched 2026-12-01, before the range measured) and
a…e (launched weekly from 2027-01-05; the range is 2027-01-01 to 2027-02-28). Twenty residents:
r1 answered a…e (5), r2 a, b, c (3), r3 d, e (2), r4…r20 one campaign each (a: r4-r7, b: r8-r10,
c: r11-r13, d: r14-r16, e: r17-r20); in `old`, r2 and r4 answered.

Answers per respondent in the range: 5, 3, 2 and seventeen 1s; 27 in all. Top 1% = ceil(0.2) = 1
resident: 5/27; top 10% = 2 residents: 8/27. Gini = Σᵢ(2i − n − 1)xᵢ / (n Σx) over the sorted
counts: the seventeen 1s weigh −19 −17 … +13 = −51, then 15·2 + 17·3 + 19·5 = 176: 125 / (20·27)
= 25/108 (the pairwise differences: 17·1 + 17·2 + 17·4 + 1 + 3 + 2 = 125).

First-timers: a has r1, r2, r4-r7; r2 and r4 answered `old` before: 4 of 6. b: r8-r10 of 5 (3/5),
c: r11-r13 of 5 (3/5), d: r3 and r14-r16 of 5 (4/5; d is r3's first), e: r17-r20 of 6 (4/6).

Splits: r1…r10 live in Oliwa, r11…r20 in Osowa. Oliwa's counts are 5, 3, 2 and seven 1s (17
answers): top 10% = 1 resident, 5/17; Gini = 55 / (10·17) = 11/34. Osowa's ten gave one each: Gini
0. r1 and r3 answer by Telegram, the rest by SMS. r1…r12 came from the import `register-2026`,
r13…r20 enrolled themselves at the poster `qr-bus-12`.

Campaign e is sampled: everyone of its six respondents was drawn. r1 and r3 (imported, drawn) said
yes; of the self-enrolled r17…r20 only r17 said yes: sampled yes 100%, self-enrolled 25%, a
difference of +75 points. Everybody else answered yes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlmodel import col

from outreach.bootstrap import Services
from outreach.participation.meter import Participation
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

SINCE, UNTIL = date(2027, 1, 1), date(2027, 2, 28)
OLD_LAUNCH = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
FIRST_LAUNCH = datetime(2027, 1, 5, 9, 0, tzinfo=UTC)
CAMPAIGNS = ["old", "a", "b", "c", "d", "e"]

# campaign -> its respondents (resident numbers)
ANSWERED: dict[str, list[int]] = {
    "old": [2, 4],
    "a": [1, 2, 4, 5, 6, 7],
    "b": [1, 2, 8, 9, 10],
    "c": [1, 2, 11, 12, 13],
    "d": [1, 3, 14, 15, 16],
    "e": [1, 3, 17, 18, 19, 20],
}
SAYS_NO = {("e", 18), ("e", 19), ("e", 20)}

TOP_1, TOP_10 = 5 / 27, 8 / 27
GINI = 25 / 108
FIRST_TIMERS = {"a": (6, 4), "b": (5, 3), "c": (5, 3), "d": (5, 4), "e": (6, 4)}  # respondents, first-timers
OLIWA_TOP_10, OLIWA_GINI = 5 / 17, 11 / 34


def launched_at(campaign: str) -> datetime:
    index = CAMPAIGNS.index(campaign)
    return OLD_LAUNCH if index == 0 else FIRST_LAUNCH + timedelta(weeks=index - 1)


def answered_at(campaign: str, resident: int) -> datetime:
    return launched_at(campaign) + timedelta(hours=1, minutes=resident)


def district(resident: int) -> str:
    return "Oliwa" if resident <= 10 else "Osowa"


def channel(resident: int) -> str:
    return "telegram" if resident in (1, 3) else "sms"


def source(resident: int) -> tuple[str, str]:
    return ("import", "register-2026") if resident <= 12 else ("self-enrolment", "qr-bus-12")


def participations() -> list[Participation]:
    """The history as the meter reads it (campaign ids: the index in CAMPAIGNS, from 1)."""
    return [
        Participation(
            resident,
            CAMPAIGNS.index(campaign) + 1,
            answered_at(campaign, resident),
            channel(resident),
            district(resident),
            source(resident)[1],
        )
        for campaign, residents in ANSWERED.items()
        for resident in residents
    ]


def in_range() -> dict[int, str]:
    return {CAMPAIGNS.index(campaign) + 1: campaign for campaign in CAMPAIGNS[1:]}


async def answered_history(services: Services) -> dict[str, CampaignRecord]:
    """The history in the database: campaigns, residents, conversations, answers and e's sample."""
    now = OLD_LAUNCH
    records: dict[str, CampaignRecord] = {}
    async with services.sessions() as session, session.begin():
        for campaign in CAMPAIGNS:
            record = CampaignRecord(
                slug=campaign,
                name=f"Campaign {campaign}",
                definition={
                    "name": f"Campaign {campaign}",
                    "languages": ["pl"],
                    "channels": ["sms", "telegram"],
                    "questions": [{"id": "q", "type": "yesno", "text": {"pl": "Tak czy nie?"}}],
                },
                status="closed",
                created_at=now,
                launched_at=launched_at(campaign),
            )
            session.add(record)
            records[campaign] = record
        await session.flush()
        people: list[dict[str, Any]] = [
            {
                "pseudonym": f"hist{number:04d}",
                "language": "pl",
                "attributes": {
                    "district": district(number),
                    "recruited_via": source(number)[0],
                    "recruitment_source": source(number)[1],
                },
                "created_at": now,
                "updated_at": now,
            }
            for number in range(1, 21)
        ]
        ids = list((await session.execute(insert(Resident).returning(col(Resident.id)), people)).scalars())
        resident_ids = dict(zip(range(1, 21), ids, strict=True))
        addresses = [
            {
                "resident_id": resident_ids[number],
                "channel": channel(number),
                **address_keys(session).columns(
                    channel(number), f"+4860020{number:04d}" if channel(number) == "sms" else str(7000 + number)
                ),
                "consent_at": now,
                "created_at": now,
            }
            for number in range(1, 21)
        ]
        contacts = list(
            (await session.execute(insert(ContactAddress).returning(col(ContactAddress.id)), addresses)).scalars()
        )
        contact_ids = dict(zip(range(1, 21), contacts, strict=True))
        for campaign, residents in ANSWERED.items():
            campaign_id = records[campaign].id
            await session.execute(
                insert(Conversation),
                [
                    {
                        "campaign_id": campaign_id,
                        "resident_id": resident_ids[number],
                        "contact_id": contact_ids[number],
                        "respondent": f"{campaign}{number:04d}",
                        "state": {},
                        "status": "completed",
                        "started_at": launched_at(campaign),
                        "updated_at": answered_at(campaign, number),
                        "asked_at": launched_at(campaign),
                    }
                    for number in residents
                ],
            )
            await session.execute(
                insert(Response),
                [
                    {
                        "campaign_id": campaign_id,
                        "question_id": "q",
                        "resident_id": resident_ids[number],
                        "respondent": f"{campaign}{number:04d}",
                        "value": "no" if (campaign, number) in SAYS_NO else "yes",
                        "channel": channel(number),
                        "answered_at": answered_at(campaign, number),
                        "language": "pl",
                        "attributes": people[number - 1]["attributes"],
                    }
                    for number in residents
                ],
            )
        sampled = records["e"].id
        assert sampled is not None
        session.add(CampaignSample(campaign_id=sampled, seed=1, size=6, drawn_at=launched_at("e")))
        await session.flush()
        await session.execute(
            insert(SampledResident),
            [
                {"campaign_id": sampled, "resident_id": resident_ids[n], "stratum": "", "inclusion_probability": 0.5}
                for n in ANSWERED["e"]
            ],
        )
    return records
