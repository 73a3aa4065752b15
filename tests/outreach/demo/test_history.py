"""The simulated crowd's earlier consultations: written as the service stores a closed campaign's
answers, so the usual-suspects meter reads a real history (regulars, newcomers), and none of it
holds anybody back from the demo's own campaign."""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from flows.age_bands import DEFAULT_AGE_BANDS
from flows.campaign import Campaign
from outreach.bootstrap import Services
from outreach.campaigns.fatigue import DEFAULT_FATIGUE
from outreach.campaigns.residents_import import import_residents
from outreach.demo.example import audience_districts
from outreach.demo.history import EARLIER, record_history
from outreach.demo.residents import Persona, simulate_residents, write_residents_csv
from outreach.inbound.enrolment import load_districts
from outreach.participation.reports import participation_report
from storage.address_keys import address_of
from storage.db import read_session
from storage.participation import participations
from storage.tables import ContactAddress

LAUNCH = datetime(2027, 3, 2, 20, 30, tzinfo=UTC)


async def test_the_history_gives_the_meter_regulars_and_newcomers(services: Services, flow: Campaign) -> None:
    districts = load_districts()
    audience = audience_districts(flow, districts)
    people = simulate_residents(150, seed=7, districts=districts, audience=audience, age_bands=DEFAULT_AGE_BANDS)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "residents.csv"
        write_residents_csv(people, path)
        imported = await import_residents(
            services.sessions, path, region="PL", clock=services.clock, age_bands=DEFAULT_AGE_BANDS
        )
    assert not imported.errors
    report = await record_history(services.sessions, people, launched=LAUNCH, seed=7)
    assert list(report.answered) == [earlier.slug for earlier in EARLIER]
    assert all(count > 0 for count in report.answered.values())

    async with read_session(services.sessions) as session:
        rows = await participations(session)
        addresses = {
            address_of(session, contact): contact.resident_id
            for contact in (await session.execute(select(ContactAddress))).scalars()
        }
    assert sum(report.answered.values()) == len(rows)
    per_resident: dict[int, int] = {}
    for row in rows:
        per_resident[row.resident_id] = per_resident.get(row.resident_id, 0) + 1
    assert max(per_resident.values()) == len(EARLIER)  # a regular answered every one
    silent = {addresses[p.phone or p.telegram] for p in people if p.persona is Persona.SILENT}
    assert silent and not silent & set(per_resident)  # the silent never answered
    # All of it before the fatigue window of the demo's own launch: nobody is held back from it.
    assert all(row.answered_at < LAUNCH - timedelta(days=DEFAULT_FATIGUE.window_days) for row in rows)

    meter = await participation_report(services.sessions, date(2026, 1, 1), date(2027, 2, 28), k=1)
    assert meter.respondents == len(per_resident) and meter.gini is not None and meter.gini > 0
    assert [c.campaign for c in meter.campaigns] == [earlier.slug for earlier in EARLIER]
    returning = [c.respondents - c.first_timers for c in meter.campaigns if c.respondents and c.first_timers]
    assert returning[0] == 0 and sum(returning) > 0  # the first had only newcomers; later ones some regulars
