"""The simulated crowd's earlier consultations, so that the usual-suspects meter has a past to read.

A real register comes with a history: the city asked its residents before, and the same few answered
nearly every time while most never did. The demo records three such consultations months before its
own (outside the fatigue window, so nobody is held back from it): closed campaigns of one yes/no
question, with the conversations and answers the service would have stored for those who answered.
Nothing is sent for them; they are written straight to the database, each said so on screen.

Who answered: a few regulars (a fifth of those who answer everything now) nearly always, the rest of
the crowd seldom, the silent never. Drawn from a generator of its own, so the live consultation's
replies are the same with or without the history.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlmodel import col

from outreach.campaigns.pseudonyms import PSEUDONYM_KEY, respondent_pseudonym
from outreach.demo.residents import Persona, SimResident
from storage.address_keys import address_keys
from storage.db import SessionFactory
from storage.keys import installation_key
from storage.tables import CampaignRecord, ContactAddress, Conversation, Resident, Response


@dataclass(frozen=True)
class Earlier:
    slug: str
    name: str
    question: str
    weeks_before: int  # launched this long before the demo's own consultation


EARLIER = (
    Earlier("zielen-2026", "Zieleń w dzielnicach 2026", "Czy miasto powinno sadzić więcej drzew przy ulicach?", 26),
    Earlier("rowery-2026", "Drogi rowerowe 2026", "Czy potrzebujesz drogi rowerowej w swojej dzielnicy?", 17),
    Earlier("cisza-2026", "Cisza nocna 2026", "Czy hałas nocą przeszkadza Ci w Twojej okolicy?", 9),
)
REGULARS = 0.2  # of those who answer everything now: they answered nearly every consultation before
CHANCE = {
    Persona.ANSWERS: 0.2,
    Persona.MISTYPES: 0.15,
    Persona.LATE: 0.1,
    Persona.DROPS_OUT: 0.1,
    Persona.STOPS: 0.05,
    Persona.SILENT: 0.0,
}
REGULAR_CHANCE = 0.95


@dataclass(frozen=True)
class HistoryReport:
    answered: dict[str, int]  # per earlier campaign, its respondents


def _chances(people: Sequence[SimResident], rng: random.Random) -> list[float]:
    keen = [index for index, person in enumerate(people) if person.persona is Persona.ANSWERS]
    regulars = set(rng.sample(keen, round(len(keen) * REGULARS)))
    return [REGULAR_CHANCE if index in regulars else CHANCE[person.persona] for index, person in enumerate(people)]


async def record_history(
    sessions: SessionFactory, people: Sequence[SimResident], *, launched: datetime, seed: int
) -> HistoryReport:
    """Write EARLIER's campaigns and the crowd's answers to them (the crowd already imported)."""
    rng = random.Random(f"{seed}:history")
    chances = _chances(people, rng)
    answered: dict[str, int] = {}
    async with sessions() as session, session.begin():
        # Each resident answered on their phone or Telegram (email is off in the demo).
        rows = await session.execute(
            select(
                col(ContactAddress.channel),
                col(ContactAddress.address_sealed),
                col(ContactAddress.id),
                col(Resident.id),
            )
            .join(Resident, col(Resident.id) == col(ContactAddress.resident_id))
            .order_by(col(ContactAddress.id))
        )
        contact_of: dict[str, tuple[int, int]] = {}
        keys = address_keys(session)
        for channel, sealed, contact_id, resident_id in rows.all():
            if contact_id is not None and resident_id is not None:  # always, once stored
                contact_of[keys.open(channel, sealed)] = (contact_id, resident_id)
        residents = {
            row.id: row for row in (await session.execute(select(Resident))).scalars().all() if row.id is not None
        }
        key = await installation_key(session, PSEUDONYM_KEY, now=launched)
        for earlier in EARLIER:
            at = launched - timedelta(weeks=earlier.weeks_before)
            record = CampaignRecord(
                slug=earlier.slug,
                name=earlier.name,
                definition=_definition(earlier),
                status="closed",
                created_at=at - timedelta(days=2),
                launched_at=at,
                closed_at=at + timedelta(days=7),
            )
            session.add(record)
            await session.flush()
            assert record.id is not None
            conversations: list[dict[str, Any]] = []
            responses: list[dict[str, Any]] = []
            for index, person in enumerate(people):
                if rng.random() >= chances[index]:
                    continue
                kind, address = next((k, a) for k, a in person.addresses if k in ("sms", "telegram"))
                contact_id, resident_id = contact_of[address]
                resident = residents[resident_id]
                when = at + timedelta(hours=rng.uniform(1, 48))
                respondent = respondent_pseudonym(key, resident_id, record.id)
                conversations.append(
                    {
                        "campaign_id": record.id,
                        "resident_id": resident_id,
                        "contact_id": contact_id,
                        "respondent": respondent,
                        "state": {},
                        "status": "completed",
                        "started_at": at,
                        "updated_at": when,
                        "asked_at": at,
                        "last_reply_at": when,
                    }
                )
                responses.append(
                    {
                        "campaign_id": record.id,
                        "question_id": "q",
                        "resident_id": resident_id,
                        "respondent": respondent,
                        "value": "yes" if rng.random() < 0.6 else "no",
                        "channel": kind,
                        "answered_at": when,
                        "language": resident.language,
                        "attributes": dict(resident.attributes),
                    }
                )
            if conversations:
                await session.execute(insert(Conversation), conversations)
                await session.execute(insert(Response), responses)
            answered[earlier.slug] = len(responses)
    return HistoryReport(answered)


def _definition(earlier: Earlier) -> dict[str, object]:
    return {
        "name": earlier.name,
        "languages": ["pl"],
        "channels": ["sms", "telegram"],
        "questions": [{"id": "q", "type": "yesno", "text": {"pl": earlier.question}}],
    }
