"""Results back to residents: once a campaign closes, each respondent who did not say STOP gets its
message once, on the address they answered on, after quiet hours; the figures are the campaign's top
answer (unweighted here, and the message says so), and the district's where its cell may be shown."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlmodel import col

from channels.base import Outbound
from outreach.bootstrap import Services
from outreach.campaigns.commands import close_campaign
from outreach.outbound.dispatcher import Dispatcher, DispatchPolicy
from outreach.results.results_back import ResultsBack, preview_results_back, results_key
from outreach.survey.margins_store import save_margins
from storage.tables import CampaignRecord, ContactAddress, OutboxMessage
from tests.conftest import ManualClock
from tests.factories import add_resident, address_in_the_clear
from tests.outreach.helpers import CITY, launch, reply

CAMPAIGN = """
name: Park — co dalej
languages: [pl, uk]
channels: [sms, telegram]
schedule: {quiet_hours: null}
questions:
  - id: priority
    type: choice
    text: {pl: "Co poprawić?", uk: "Що покращити?"}
    options:
      - {key: lighting, text: {pl: oświetlenie, uk: освітлення}}
      - {key: benches, text: {pl: ławki, uk: лавки}}
  - {id: again, type: yesno, text: {pl: "Wrócisz?", uk: "Повернетеся?"}}
results_back:
  after: close
  text:
    pl: "Dziękujemy! Najwięcej osób chce: {answer:priority} ({share:priority})."
    uk: "Дякуємо! Найбільше хочуть: {answer:priority} ({share:priority})."
  district:
    pl: "W dzielnicy {district}: {district_share:priority}."
    uk: "У районі {district}: {district_share:priority}."
"""

# (phone or telegram chat id, channel, language, district, answer to priority)
PEOPLE = [
    ("+48600100201", "sms", "pl", "Orunia", "1"),
    ("+48600100202", "sms", "pl", "Orunia", "1"),
    ("+48600100203", "sms", "pl", "Orunia", "1"),
    ("+48600100204", "sms", "pl", "Orunia", "1"),
    ("+48600100205", "sms", "pl", "Oliwa", "1"),
    ("+48600100206", "sms", "pl", "Oliwa", "2"),
    ("+48600100207", "sms", "pl", "Oliwa", "2"),
    ("7001", "telegram", "uk", "Zaspa", "2"),
]
STOPPER = "+48600100208"  # Orunia: answers lighting, then says STOP
SILENT = "+48600100209"  # Orunia: never answers
K = 2


async def closed_campaign(
    services: Services, clock: ManualClock, *, close: bool = True, campaign: str = CAMPAIGN
) -> int:
    for address, channel, language, district, _ in PEOPLE:
        contact = {"telegram": address} if channel == "telegram" else {"phone": address}
        await add_resident(services, language=language, district=district, **contact)
    for phone in (STOPPER, SILENT):
        await add_resident(services, phone=phone, district="Orunia")
    campaign_id = await launch(services, campaign)
    for address, channel, _, _, answer in PEOPLE:
        await reply(services, address, answer, channel=channel)
        await reply(services, address, "1", channel=channel)
    await reply(services, STOPPER, "1")
    await reply(services, STOPPER, "STOP")
    clock.now = datetime(2027, 3, 2, 21, 30, tzinfo=UTC)  # 22:30 in Gdańsk: inside the default quiet hours
    if close:
        await close_campaign(services.sessions, str(campaign_id), services.definitions, clock=clock)
    return campaign_id


def job(services: Services, clock: ManualClock) -> ResultsBack:
    return ResultsBack(services.sessions, services.definitions, clock=clock, spread=timedelta(minutes=60), k=K)


async def results_rows(services: Services) -> list[tuple[OutboxMessage, ContactAddress]]:
    async with services.sessions() as session:
        rows = await session.execute(
            select(OutboxMessage, ContactAddress)
            .join(ContactAddress, col(ContactAddress.id) == col(OutboxMessage.contact_id))
            .where(col(OutboxMessage.kind) == "results")
            .order_by(col(OutboxMessage.resident_id))
        )
        return [(message, contact) for message, contact in rows.all()]


async def test_every_respondent_but_those_who_said_stop_gets_the_results_once_on_their_channel(
    services: Services, clock: ManualClock
) -> None:
    campaign_id = await closed_campaign(services, clock)
    assert await job(services, clock).send_due() == len(PEOPLE)
    rows = await results_rows(services)
    assert [address_in_the_clear(services, contact) for _, contact in rows] == [
        address for address, *_ in PEOPLE
    ]  # not STOPPER, SILENT
    assert [contact.channel for _, contact in rows] == [channel for _, channel, *_ in PEOPLE]
    assert {message.idempotency_key for message, _ in rows} == {
        results_key(campaign_id, message.resident_id) for message, _ in rows
    }
    texts = {address_in_the_clear(services, contact): message.text for message, contact in rows}
    # 6 of 9 respondents chose lighting (the stopper's answer counts: it was given). Unweighted: said so.
    # Orunia's 5 respondents may be shown (k = 2); Oliwa's 3 are withheld as the complement of Zaspa's 1.
    assert texts["+48600100201"] == (
        "Dziękujemy! Najwięcej osób chce: oświetlenie (67%). W dzielnicy Orunia: 100%."
        " (Odsetki wśród osób, które odpowiedziały, bez ważenia.)"
    )
    assert texts["+48600100205"] == (
        "Dziękujemy! Najwięcej osób chce: oświetlenie (67%). (Odsetki wśród osób, które odpowiedziały, bez ważenia.)"
    )
    assert (
        texts["7001"]
        == "Дякуємо! Найбільше хочуть: освітлення (67%). (Частки серед тих, хто відповів, без зважування.)"
    )


async def test_results_wait_for_the_end_of_quiet_hours_even_when_the_campaign_turned_them_off(
    services: Services, clock: ManualClock
) -> None:
    await closed_campaign(services, clock)
    await job(services, clock).send_due()
    morning = datetime(2027, 3, 3, 7, 0, tzinfo=UTC)  # 08:00 in Gdańsk
    for message, _ in await results_rows(services):
        assert (message.quiet_hours, message.status) == ("21:00-08:00", "queued")
        assert morning <= message.next_attempt_at < morning + timedelta(minutes=60)
    sent: list[Outbound] = []
    for sandbox in services.sandboxes.values():
        sandbox.subscribe(lambda outbound, _: sent.append(outbound))
    await services.dispatcher.drain()
    assert [outbound for outbound in sent if outbound.key.startswith("results:")] == []  # not at night
    clock.now = morning + timedelta(minutes=61)
    await services.dispatcher.drain()
    results = sorted((o.channel, o.address) for o in sent if o.key.startswith("results:"))
    assert results == sorted((channel, address) for address, channel, *_ in PEOPLE)


async def test_exactly_once_when_the_job_runs_again_or_two_workers_race(services: Services, clock: ManualClock) -> None:
    campaign_id = await closed_campaign(services, clock)
    first, second = await asyncio.gather(job(services, clock).send_due(), job(services, clock).send_due())
    assert first + second == len(PEOPLE)
    # A job cut short before it marked the campaign done runs again: the outbox's keys refuse every copy.
    async with services.sessions() as session, session.begin():
        await session.execute(
            update(CampaignRecord).where(col(CampaignRecord.id) == campaign_id).values(results_back_at=None)
        )
    assert await job(services, clock).send_due() == 0
    assert await job(services, clock).send_due() == 0  # and once marked, the campaign is not looked at
    assert len(await results_rows(services)) == len(PEOPLE)


async def test_the_lifecycle_tick_sends_them_after_a_scheduled_close(services: Services, clock: ManualClock) -> None:
    await closed_campaign(services, clock)
    report = await services.lifecycle.tick()
    assert report.results_back == len(PEOPLE)
    assert (await services.lifecycle.tick()).results_back == 0


async def test_the_preview_counts_who_would_get_them_and_prices_the_sms(services: Services, clock: ManualClock) -> None:
    campaign_id = await closed_campaign(services, clock)
    async with services.sessions() as session:
        record = await session.get_one(CampaignRecord, campaign_id)
    flow = services.definitions.flow(record)
    preview = await preview_results_back(services.sessions, record, flow, {"+48": 0.1})
    assert preview.respondents == {"sms": 7, "telegram": 1}
    # The longest Polish message (Polish letters: UCS-2) takes 3 segments: 7 × 3 × 0.10.
    assert preview.sms_segments == 21
    assert round(preview.sms_cost, 2) == 2.1


WEIGHTED = """
name: Park ważony
languages: [pl]
channels: [sms]
audience:
  sample: {size: 5, strata: [district], margins: city, seed: 7}
questions:
  - {id: visits, type: yesno, text: {pl: "Czy bywasz w parku?"}}
results_back:
  text: {pl: "Najczęstsza odpowiedź: {answer:visits} ({share:visits})."}
"""


async def test_with_margins_the_figures_are_weighted_and_not_said_to_be_unweighted(
    services: Services, clock: ManualClock
) -> None:
    async with services.sessions() as session, session.begin():
        await save_margins(session, CITY, source="test", now=clock())
    # Oliwa is 60% of the city: of its 3 drawn residents 1 answers (no); both of Osowa's answer yes.
    # Unweighted, yes leads with 67%; weighted, Oliwa's one answer stands for 60% of the city: no, 60%.
    people = [("+48600100301", "Oliwa", "nie"), ("+48600100302", "Oliwa", None), ("+48600100303", "Oliwa", None)]
    people += [("+48600100304", "Osowa", "tak"), ("+48600100305", "Osowa", "tak")]
    for phone, district, _ in people:
        await add_resident(services, phone=phone, district=district)
    campaign_id = await launch(services, WEIGHTED)
    for phone, _, answer in people:
        if answer is not None:
            await reply(services, phone, answer)
    await close_campaign(services.sessions, str(campaign_id), services.definitions, clock=clock)
    assert await job(services, clock).send_due() == 3
    texts = {address_in_the_clear(services, contact): message.text for message, contact in await results_rows(services)}
    assert texts["+48600100304"] == "Najczęstsza odpowiedź: nie (60%)."


async def test_results_back_are_counted_in_the_campaigns_sms_budget(services: Services, clock: ManualClock) -> None:
    budget = 0.3  # each results SMS is 2 UCS-2 segments at 0.04: three fit
    with_budget = CAMPAIGN.replace("questions:", f"budget: {budget}\nquestions:")
    campaign_id = await closed_campaign(services, clock, campaign=with_budget)
    await job(services, clock).send_due()
    clock.now = datetime(2027, 3, 3, 9, 0, tzinfo=UTC)  # after quiet hours and their spread
    # Sends at once, at the dispatcher's default concurrency: each reserves its cost before it goes.
    policy = DispatchPolicy(sms_prices={"+48": 0.04})
    dispatcher = Dispatcher(
        services.sessions,
        services.channels,
        worker_id="t",
        policy=policy,
        clock=clock,
        definitions=services.definitions,
    )
    await dispatcher.drain()
    async with services.sessions() as session:
        record = await session.get_one(CampaignRecord, campaign_id)
    sms = [message for message, _ in await results_rows(services) if message.channel == "sms"]
    # The campaign is closed and cannot resume: past the budget they fail, saying why (not held for good).
    assert [message.status for message in sms].count("sent") == 3
    assert [(m.status, m.error_class) for m in sms if m.status != "sent"] == [("failed", "over_budget")] * 4
    assert round(record.spent, 2) == 0.24 <= budget
