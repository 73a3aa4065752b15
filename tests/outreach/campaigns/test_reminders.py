"""Reminders aimed at the silence, through the real lifecycle: a campaign sampled by district, where
Oliwa answers and Osowa stays silent, reminds by its `reminders` strategy within its limit, and
channel fallback follows only residents of strata not past their target."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select
from sqlmodel import col

from flows.loader import load_campaign
from outreach.bootstrap import Services
from outreach.campaigns.commands import create_campaign, launch_campaign
from outreach.outbound.fallback import fall_back
from outreach.survey.margins_store import save_margins
from storage.address_keys import address_of
from storage.outbox import OutboxRepository
from storage.tables import ContactAddress, Conversation, OutboxMessage, Resident
from tests.conftest import ManualClock
from tests.factories import add_resident
from tests.outreach.helpers import CITY, reply

# Ten drawn of twenty residents, by the margins 6 in Oliwa and 4 in Osowa; reminded a day after the ask.
CAMPAIGN = """
name: Park
languages: [pl]
channels: [sms, email]
audience:
  sample: {{size: 10, strata: [district], margins: city, seed: 7}}
schedule: {{quiet_hours: null, reminders: [24h]}}
reminders: {{strategy: {strategy}, limit: 3}}
questions:
  - id: visits
    type: yesno
    text: {{pl: "Czy bywasz w parku?"}}
"""


async def sampled_campaign_with_a_silent_district(
    services: Services, clock: ManualClock, strategy: str
) -> dict[str, list[int]]:
    """The campaign launched over twenty residents, half in each district; three of the six drawn in
    Oliwa answer, none of the four in Osowa: its drawn residents by district."""
    async with services.sessions() as session, session.begin():
        await save_margins(session, CITY, source="test", now=clock())
    for number in range(20):
        district = "Oliwa" if number % 2 == 0 else "Osowa"
        await add_resident(services, phone=f"+486001002{number:02d}", email=f"r{number}@example.org", district=district)
    record = await create_campaign(services.sessions, load_campaign(CAMPAIGN.format(strategy=strategy)), clock=clock)
    await launch_campaign(services.sessions, record.slug, clock=clock)
    drawn = await _drawn(services)
    assert {district: len(ids) for district, ids in drawn.items()} == {"Oliwa": 6, "Osowa": 4}
    for resident_id in drawn["Oliwa"][:3]:
        await reply(services, await _phone(services, resident_id), "tak")
    return drawn


async def _drawn(services: Services) -> dict[str, list[int]]:
    async with services.sessions() as session:
        rows = await session.execute(
            select(col(Conversation.resident_id), col(Resident.attributes))
            .join(Resident, col(Resident.id) == col(Conversation.resident_id))
            .order_by(col(Conversation.resident_id))
        )
        drawn: dict[str, list[int]] = {}
        for resident_id, attributes in rows.all():
            drawn.setdefault(attributes["district"], []).append(resident_id)
        return drawn


async def _phone(services: Services, resident_id: int) -> str:
    async with services.sessions() as session:
        contact = await session.scalar(
            select(ContactAddress)
            .where(col(ContactAddress.resident_id) == resident_id)
            .where(col(ContactAddress.channel) == "sms")
        )
        assert contact is not None
        return address_of(session, contact)


async def _reminded(services: Services) -> list[int]:
    async with services.sessions() as session:
        rows = await session.execute(
            select(col(OutboxMessage.resident_id)).where(col(OutboxMessage.idempotency_key).like("%:r1"))
        )
        return sorted(rows.scalars())


async def test_lagging_strata_spends_the_limit_on_the_silent_district_and_none_on_the_one_past_its_target(
    services: Services, clock: ManualClock
) -> None:
    drawn = await sampled_campaign_with_a_silent_district(services, clock, "lagging_strata")
    clock.advance(hours=24)
    # Oliwa answers at 3 of 6, above the campaign's 3 of 10: past its target, it gets none; Osowa
    # (0 of 4) takes the whole limit of 3.
    assert (await services.lifecycle.tick()).reminded == 3
    reminded = await _reminded(services)
    assert reminded == drawn["Osowa"][:3]
    clock.advance(days=3)
    assert (await services.lifecycle.tick()).reminded == 0  # the limit is spent; one reminder each at most
    async with services.sessions() as session:
        assert await OutboxRepository(session).count_reminders(1) == 3


async def test_uniform_spends_the_same_limit_over_everyone_silent(services: Services, clock: ManualClock) -> None:
    drawn = await sampled_campaign_with_a_silent_district(services, clock, "uniform")
    clock.advance(hours=24)
    assert (await services.lifecycle.tick()).reminded == 3  # the same number of reminders
    # 3 silent in Oliwa and 4 in Osowa share the 3 reminders by their number: 1 and 2.
    districts = {resident_id: district for district, ids in drawn.items() for resident_id in ids}
    assert Counter(districts[resident_id] for resident_id in await _reminded(services)) == {"Oliwa": 1, "Osowa": 2}


@pytest.mark.parametrize(("district", "follows"), [("Osowa", True), ("Oliwa", False)])
async def test_fallback_follows_only_residents_of_lagging_strata(
    services: Services, clock: ManualClock, district: str, follows: bool
) -> None:
    drawn = await sampled_campaign_with_a_silent_district(services, clock, "lagging_strata")
    resident_id = drawn[district][-1]  # one who has not answered
    async with services.sessions() as session, session.begin():
        conversation = await session.scalar(select(Conversation).where(col(Conversation.resident_id) == resident_id))
        assert conversation is not None
        moved = await fall_back(
            session,
            campaign_id=conversation.campaign_id,
            resident_id=resident_id,
            failed_contact_id=conversation.contact_id,
            definitions=services.definitions,
            now=clock(),
            spread=services.spread,
        )
    assert moved is follows


async def test_reminders_are_counted_by_their_key_not_by_a_question_id_beginning_with_r(
    services: Services, clock: ManualClock
) -> None:
    # Failed before: count_reminders matched "q:%:r%", so the first ask of question "rating" was one.
    await add_resident(services, phone="+48600100200")
    yaml = """
name: Rating
languages: [pl]
channels: [sms]
schedule: {quiet_hours: null, reminders: [24h]}
reminders: {limit: 5}
questions:
  - id: rating
    type: scale
    min: 1
    max: 5
    text: {pl: "Jak oceniasz park?"}
"""
    record = await create_campaign(services.sessions, load_campaign(yaml), clock=clock)
    await launch_campaign(services.sessions, record.slug, clock=clock)
    async with services.sessions() as session:
        assert await OutboxRepository(session).count_reminders(1) == 0
    clock.advance(hours=24)
    assert (await services.lifecycle.tick()).reminded == 1
    async with services.sessions() as session:
        assert await OutboxRepository(session).count_reminders(1) == 1
