"""The participation figures read from a real store (both backends): the meter over a date range and
one campaign's part on the hand-computed history; coverage per stratum and per source."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from outreach.bootstrap import Services
from outreach.participation.reports import campaign_participation, coverage_report, participation_report
from outreach.survey.margins import Margins
from outreach.survey.margins_store import save_margins
from storage.consent_ledger import Because, Source
from storage.residents import ResidentRepository
from tests.factories import add_resident
from tests.outreach.participation.meter_fixture import (
    FIRST_TIMERS,
    GINI,
    SINCE,
    TOP_1,
    TOP_10,
    UNTIL,
    answered_history,
)


async def test_the_meter_over_a_range_is_the_hand_computed_one(services: Services) -> None:
    await answered_history(services)
    figures = await participation_report(services.sessions, SINCE, UNTIL, k=1)
    assert (figures.respondents, figures.answers) == (20, 27)
    assert figures.top_1_percent is not None and figures.top_1_percent.share == pytest.approx(TOP_1)
    assert figures.top_10_percent is not None and figures.top_10_percent.share == pytest.approx(TOP_10)
    assert figures.gini == pytest.approx(GINI)
    assert {c.campaign: (c.respondents, c.first_timers) for c in figures.campaigns} == FIRST_TIMERS
    districts = next(split for split in figures.splits if split.by == "district")
    assert [(group.value, group.respondents) for group in districts.groups] == [("Oliwa", 10), ("Osowa", 10)]


async def test_the_range_takes_the_campaigns_launched_in_it(services: Services) -> None:
    await answered_history(services)
    figures = await participation_report(services.sessions, date(2027, 1, 5), date(2027, 1, 12), k=1)
    assert [c.campaign for c in figures.campaigns] == ["a", "b"]  # both days included
    assert (figures.respondents, figures.answers) == (9, 11)


async def test_a_campaigns_part_compares_the_sampled_with_the_self_enrolled(services: Services) -> None:
    records = await answered_history(services)
    record = records["e"]
    part = await campaign_participation(services.sessions, record, services.definitions.flow(record), k=1)
    assert [(c.campaign, c.respondents, c.first_timers) for c in part.meter.campaigns] == [("e", 6, 4)]
    # e's six have answered 5 (r1), 2 (r3) and 1 each up to e: 11 answers.
    assert (part.meter.respondents, part.meter.answers) == (6, 11)
    assert part.meter.top_10_percent is not None and part.meter.top_10_percent.share == pytest.approx(5 / 11)
    selection = part.sampled_vs_self_enrolled
    assert selection.respondents == {"sampled": 2, "self_enrolled": 4, "other": 0}
    question = selection.questions[0]
    assert question.sampled.shares == {"yes": 1.0, "no": 0.0}
    assert question.self_enrolled.shares == {"yes": 0.25, "no": 0.75}
    assert question.difference == pytest.approx({"yes": 0.75, "no": -0.75})


async def test_an_unsampled_campaigns_imported_respondents_are_other(services: Services) -> None:
    records = await answered_history(services)
    record = records["c"]  # r1, r2, r11, r12 imported; r13 enrolled by themselves
    part = await campaign_participation(services.sessions, record, services.definitions.flow(record), k=1)
    assert part.sampled_vs_self_enrolled.respondents == {"sampled": 0, "self_enrolled": 1, "other": 4}
    assert part.sampled_vs_self_enrolled.questions[0].difference == {"yes": None, "no": None}


CITY = Margins(
    name="city",
    dimensions={"district": {"oliwa": 3000.0, "osowa": 1000.0}, "age_band": {"18-29": 2000.0, "65+": 2000.0}},
    labels={("district", "oliwa"): "Oliwa", ("district", "osowa"): "Osowa"},
)


async def test_coverage_per_stratum_and_per_source(services: Services) -> None:
    async with services.sessions() as session, session.begin():
        await save_margins(session, CITY, source="test", now=datetime(2027, 1, 1, tzinfo=UTC))
    imported = {"recruited_via": "import", "recruitment_source": "register"}
    poster = {"recruited_via": "self-enrolment", "recruitment_source": "qr-bus-12"}
    for number in range(6):  # Oliwa, 18-29, SMS (and the first two Telegram too)
        telegram = str(9000 + number) if number < 2 else None
        await add_resident(
            services, phone=f"+4860030{number:04d}", telegram=telegram, district="Oliwa", age_band="18-29", **imported
        )
    for number in range(3):  # Osowa, 65+, Telegram, from the poster
        await add_resident(services, telegram=str(9100 + number), district="osowa", age_band="65+", **poster)
    opted_out = await add_resident(services, phone="+48600309999", district="Osowa", age_band="65+", **imported)
    assert opted_out.id is not None
    async with services.sessions() as session, session.begin():
        await ResidentRepository(session).opt_out_everywhere(
            opted_out.id, now=services.clock(), because=Because(Source.KEYWORD)
        )

    figures = await coverage_report(services.sessions, "city", k=1)
    assert (figures.residents, figures.reachable, figures.channels) == (10, 9, {"sms": 6, "telegram": 5})
    strata = {(s.dimension, s.value): s for s in figures.strata}
    osowa = strata[("district", "Osowa")]
    assert (osowa.residents, osowa.reachable, osowa.channels) == (4, 3, {"sms": 0, "telegram": 3})
    assert osowa.coverage == pytest.approx(3 / 1000)
    assert strata[("district", "Oliwa")].coverage == pytest.approx(6 / 3000)
    # Thinnest first: 65+ 3 of 2000, Oliwa 6 of 3000, then 18-29 and Osowa at 0.3% (more populous first).
    assert [s.value for s in figures.strata] == ["65+", "Oliwa", "18-29", "Osowa"]
    sources = {source.source: source for source in figures.sources}
    assert (sources["register"].residents, sources["register"].reachable) == (7, 6)
    assert sources["qr-bus-12"].via == "self-enrolment"
    assert sources["qr-bus-12"].strata == {"district": {"Oliwa": 0, "Osowa": 3}, "age_band": {"18-29": 0, "65+": 3}}
