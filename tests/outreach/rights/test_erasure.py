"""An erasure: the resident found by any form of an address, everything that identifies them gone
in one transaction, their answers kept under fresh unlinked ids so results do not change, the
participation meter leaving them out and saying so, and an opted-out address kept suppressed."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from outreach.bootstrap import Services
from outreach.campaigns.resident_rows import parse_row
from outreach.campaigns.residents_import import store_rows
from outreach.campaigns.suppressed_rows import SUPPRESSED_ROW
from outreach.inbound.pipeline import Outcome
from outreach.participation.reports import campaign_participation, participation_report
from outreach.results.unweighted import unweighted_results
from outreach.results.weighted import weighted_results
from outreach.results.weighting_request import WeightingRequest
from outreach.rights.requests import NotOneResident
from storage.address_keys import address_of
from storage.db import read_session
from storage.residents import ResidentRepository
from storage.tables import (
    AuditEntry,
    CampaignRecord,
    ContactAddress,
    Conversation,
    ErasureNotice,
    InboundEvent,
    OutboxMessage,
    Resident,
    Response,
    SampledResident,
)
from tests.factories import add_resident
from tests.outreach.helpers import reply
from tests.outreach.results.weighted_fixture import answered_city
from tests.outreach.rights.scenario import (
    CHAT_ID,
    EMAIL,
    FREE_TEXT,
    NATIONAL,
    OFFICIAL,
    PHONE,
    SURNAME,
    answered_and_stopped,
    requests,
)

# Every way an official may type one of the resident's addresses.
FORMS = [PHONE, NATIONAL, "600 100 299", "+48 600-100-299", "(+48) 600 100 299", EMAIL, EMAIL.lower(), EMAIL.upper()]
FORMS += [f"  {CHAT_ID} "]


async def _results(services: Services, campaign_id: int) -> dict[str, object]:
    async with read_session(services.sessions) as session:
        record = await session.get_one(CampaignRecord, campaign_id)
    return (await unweighted_results(services.sessions, record, services.definitions.flow(record))).model_dump()


async def test_every_form_of_every_address_finds_the_resident(services: Services) -> None:
    scenario = await answered_and_stopped(services)
    for form in FORMS:
        found = await requests(services).find(form, actor=OFFICIAL)
        assert [resident.resident for resident in found] == [scenario.pseudonym], form
        assert found[0].channels == ["email", "sms", "telegram"] and (found[0].campaigns, found[0].answers) == (2, 4)
    assert await requests(services).find("+48600100300", actor=OFFICIAL) == []
    assert await requests(services).find("someone@example.org", actor=OFFICIAL) == []


async def test_an_imported_email_is_found_in_any_case(services: Services) -> None:
    """Imported as written (`Ola.Nowak@Example.org`), found by the form every path compares."""
    row = parse_row(
        2,
        {"email": EMAIL, "consent_source": "register", "consent_at": "2027-01-01T10:00"},
        region="PL",
        age_bands=services.settings.age_bands,
    )
    assert (await store_rows(services.sessions, [row], clock=services.clock, label="register.csv")).created == 1
    for form in (EMAIL, EMAIL.lower(), EMAIL.upper(), f" {EMAIL} "):
        assert len(await requests(services).find(form, actor=OFFICIAL)) == 1, form


async def test_an_export_holds_addresses_consent_attributes_campaigns_answers_and_messages(services: Services) -> None:
    scenario = await answered_and_stopped(services)
    [record] = await requests(services).export(NATIONAL, actor=OFFICIAL)
    assert record["resident"] == scenario.pseudonym
    assert record["attributes"]["surname"] == SURNAME
    addresses = {address["channel"]: address for address in record["addresses"]}
    assert {channel: address["address"] for channel, address in addresses.items()} == {
        "sms": PHONE,
        "email": EMAIL.lower(),  # stored in the one form inbound mail and requests compare
        "telegram": CHAT_ID,
    }
    assert addresses["sms"]["consent_source"] == "test-fixture" and addresses["sms"]["opted_out_at"] is not None
    # The consent ledger's history of each address: the fixture's opt-ins, then the STOP on every one.
    history = [(change["channel"], change["change"]) for change in record["consent_history"]]
    assert ("sms", "opt_out") in history and ("telegram", "opt_out") in history

    assert [campaign["campaign"] for campaign in record["campaigns"]] == ["park-orunski", "tramwaj-na-morene"]
    assert [(answer["question"], answer["value"]) for answer in record["answers"]] == [
        ("visits", "weekly"),
        ("rating", 4),
        ("idea", FREE_TEXT),
        ("uses_tram", "yes"),
    ]
    assert [message["text"] for message in record["messages_received"]] == ["1", "4", FREE_TEXT, "tak", "STOP"]
    assert len(record["messages_sent"]) >= 5 and all(message["text"] for message in record["messages_sent"])


async def test_an_erasure_removes_the_resident_and_keeps_their_answers_unlinked(services: Services) -> None:
    scenario = await answered_and_stopped(services)
    before = {campaign: await _results(services, campaign) for campaign in (scenario.survey_id, scenario.tram_id)}
    async with read_session(services.sessions) as session:
        target = (
            await session.execute(select(Resident).where(col(Resident.pseudonym) == scenario.pseudonym))
        ).scalar_one()
        old = dict(
            (
                await session.execute(
                    select(col(Conversation.campaign_id), col(Conversation.respondent)).where(
                        col(Conversation.resident_id) == target.id
                    )
                )
            ).all()
        )
        answers_before = (await session.execute(select(func.count()).select_from(Response))).scalar_one()

    erasure = await requests(services).erase(EMAIL.upper(), actor=OFFICIAL)

    done = erasure.erased
    assert erasure.resident == scenario.pseudonym
    assert (done.addresses, done.campaigns, done.answers, done.messages_received, done.suppressed) == (3, 2, 4, 5, 3)
    for campaign, figures in before.items():
        assert await _results(services, campaign) == figures
    for form in FORMS:
        assert await requests(services).find(form, actor=OFFICIAL) == []
    async with read_session(services.sessions) as session:
        assert await session.get(Resident, target.id) is None
        assert (await session.execute(select(func.count()).select_from(Response))).scalar_one() == answers_before
        stand_ins = list(
            (await session.execute(select(Resident).where(col(Resident.erased_at).is_not(None)))).scalars()
        )
        assert len(stand_ins) == 2 and all("surname" not in stand_in.attributes for stand_in in stand_ins)
        assert all(stand_in.attributes["district"] == "Orunia" for stand_in in stand_ins)
        kept = list(
            (
                await session.execute(
                    select(Response).where(col(Response.resident_id).in_([stand_in.id for stand_in in stand_ins]))
                )
            ).scalars()
        )
        # One stand-in per campaign, each under a fresh respondent id: no row joins the two campaigns.
        respondents = {(answer.campaign_id, answer.resident_id, answer.respondent) for answer in kept}
        assert len(respondents) == 2 and len({resident for _, resident, _ in respondents}) == 2
        assert not {respondent for _, _, respondent in respondents} & set(old.values())
        assert all("surname" not in answer.attributes and answer.inbound_event_id is None for answer in kept)
        [idea] = [answer.value for answer in kept if answer.question_id == "idea"]
        assert "601 234 567" not in idea and "ola.nowak" not in idea
        notices = (await session.execute(select(col(ErasureNotice.campaign_id), col(ErasureNotice.respondent)))).all()
        assert dict(notices) == old
        placeholders = list(
            (
                await session.execute(
                    select(ContactAddress).where(col(ContactAddress.resident_id).in_([s.id for s in stand_ins]))
                )
            ).scalars()
        )
        assert placeholders and all(p.opted_out_at and p.consent_at is None for p in placeholders)
        assert all(address_of(session, p).startswith("erased:") for p in placeholders)
        sent = list(
            (
                await session.execute(
                    select(OutboxMessage).where(col(OutboxMessage.resident_id).in_([s.id for s in stand_ins]))
                )
            ).scalars()
        )
        assert sent and all(m.text == "" and m.provider_id is None for m in sent)
        texts = list((await session.execute(select(col(InboundEvent.text)))).scalars())
        assert FREE_TEXT not in texts and "STOP" not in texts
        # The audit log says who erased whom (by the pseudonym that now names nobody), never the address.
        entries = (await session.execute(select(AuditEntry).order_by(col(AuditEntry.id)))).scalars().all()
        [entry] = [entry for entry in entries if entry.action == "resident.erase"]
        assert (entry.actor_kind, entry.actor_id, entry.target_id) == ("official", "7", scenario.pseudonym)
        assert entry.details["answers"] == 4 and "600100299" not in str([vars(e) for e in entries])
    # The meter leaves the erased respondent out, and says so.
    async with read_session(services.sessions) as session:
        record = await session.get_one(CampaignRecord, scenario.survey_id)
    flow = services.definitions.flow(record)
    part = await campaign_participation(services.sessions, record, flow, k=1)
    assert (part.meter.erased, part.meter.respondents) == (1, 3)


async def test_an_erased_address_that_writes_again_is_a_stranger(services: Services) -> None:
    await answered_and_stopped(services)
    await requests(services).erase(PHONE, actor=OFFICIAL)
    assert await reply(services, PHONE, "1") is Outcome.UNKNOWN_SENDER
    assert await reply(services, CHAT_ID, "START", channel="telegram") is Outcome.UNKNOWN_SENDER
    assert await requests(services).find(PHONE, actor=OFFICIAL) == []
    async with read_session(services.sessions) as session:
        residents = ResidentRepository(session)
        for channel, address in (("sms", PHONE), ("telegram", CHAT_ID), ("email", EMAIL)):
            assert await residents.contact_by_address(channel, address) is None


async def test_an_erased_opted_out_address_is_never_imported_again(services: Services) -> None:
    await answered_and_stopped(services)
    await requests(services).erase(PHONE, actor=OFFICIAL)
    settings = services.settings
    rows = [
        parse_row(
            2,
            {"phone": NATIONAL, "consent_source": "register", "consent_at": "2027-01-01T10:00"},
            region="PL",
            age_bands=settings.age_bands,
        ),
        parse_row(
            3,
            {
                "phone": "+48600100298",
                "email": EMAIL.lower(),
                "consent_source": "register",
                "consent_at": "2027-01-01T10:00",
            },
            region="PL",
            age_bands=settings.age_bands,
        ),
    ]
    report = await store_rows(services.sessions, rows, clock=services.clock, label="again.csv")
    assert [(error.line, error.message) for error in report.errors] == [(2, SUPPRESSED_ROW)]
    assert report.created == 1
    assert await requests(services).find(PHONE, actor=OFFICIAL) == []
    [again] = await requests(services).find("+48600100298", actor=OFFICIAL)
    assert again.channels == ["sms"]  # the suppressed email was left out of the row


async def test_an_address_that_never_opted_out_may_come_back_by_a_later_import(services: Services) -> None:
    await add_resident(services, phone=PHONE)
    assert (await requests(services).erase(PHONE, actor=OFFICIAL)).erased.suppressed == 0
    row = parse_row(
        2,
        {"phone": PHONE, "consent_source": "register", "consent_at": "2027-01-01T10:00"},
        region="PL",
        age_bands=services.settings.age_bands,
    )
    report = await store_rows(services.sessions, [row], clock=services.clock, label="again.csv")
    assert (report.created, report.errors) == (1, [])


async def test_an_erasure_must_name_exactly_one_resident(services: Services) -> None:
    await add_resident(services, phone=PHONE)
    await add_resident(services, telegram=NATIONAL)  # a chat id with the phone's national digits
    with pytest.raises(NotOneResident) as several:
        await requests(services).erase(NATIONAL, actor=OFFICIAL)
    assert several.value.found == 2
    with pytest.raises(NotOneResident) as none:
        await requests(services).erase("+48600100300", actor=OFFICIAL)
    assert none.value.found == 0
    assert (await requests(services).erase(PHONE, actor=OFFICIAL)).erased.addresses == 1
    assert len(await requests(services).find(NATIONAL, actor=OFFICIAL)) == 1


async def test_weighted_results_do_not_change_when_a_sampled_respondent_is_erased(services: Services) -> None:
    record = await answered_city(services)
    flow = services.definitions.flow(record)
    request = WeightingRequest("city", ("district",))
    weighted = await weighted_results(services.sessions, record, flow, request, k=1)
    unweighted = await unweighted_results(services.sessions, record, flow)

    await requests(services).erase("600 100 005", actor=OFFICIAL)  # Osowa, drawn with π = 0.5, answered yes

    assert await weighted_results(services.sessions, record, flow, request, k=1) == weighted
    assert await unweighted_results(services.sessions, record, flow) == unweighted
    async with read_session(services.sessions) as session:
        drawn = (await session.execute(select(func.count()).select_from(SampledResident))).scalar_one()
        assert drawn == 16


async def test_the_city_wide_meter_leaves_erased_respondents_out_and_counts_them_per_campaign(
    services: Services,
) -> None:
    """Issue 20: the participation figures leave erased respondents out and say how many. Across
    campaigns an erased resident counts once per campaign they answered: nothing left joins them."""
    await answered_and_stopped(services)  # the resident answered both campaigns
    day = services.clock().date()
    before = await participation_report(services.sessions, day, day, k=1)
    await requests(services).erase(PHONE, actor=OFFICIAL)
    after = await participation_report(services.sessions, day, day, k=1)
    assert (before.erased, after.erased) == (0, 2)
    assert before.respondents is not None  # None only when the count is withheld as too small
    assert after.respondents == before.respondents - 1
