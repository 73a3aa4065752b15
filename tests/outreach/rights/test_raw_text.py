"""Free-text answers under retention: once older than RETENTION_RAW_TEXT_DAYS an answer keeps only its
scrubbed form in the database (a newer one its raw words, a closed question's answer its key), in pages
by id, marked scrubbed; counted in the log line and /metrics; a second run changes nothing, and results
read the same."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select
from sqlmodel import col

from outreach.bootstrap import Services
from outreach.privacy.scrubber import scrub_text
from outreach.rights.retention import Retention
from outreach.web.prometheus_telemetry import PrometheusTelemetry
from storage.db import read_session
from storage.retention import Kind
from storage.tables import Response
from tests.conftest import ManualClock
from tests.factories import add_resident
from tests.outreach.helpers import launch, reply
from tests.outreach.rights.scenario import OFFICIAL

SUGGESTIONS = """
name: Park
languages: [pl]
channels: [sms]
questions:
  - id: visits
    type: yesno
    text: {pl: "Czy bywasz w parku?"}
  - id: idea
    type: text
    text: {pl: "Co zmienić?"}
"""
EARLY = ("+48600100501", "+48600100502", "+48600100503")
LATE = "+48600100504"
IDEAS = {
    "+48600100501": "Więcej ławek, dzwońcie 600 100 200",
    "+48600100502": "Piszcie: jan.kowalski@example.com",
    "+48600100503": "Więcej drzew",  # nothing to mask: left as it is
    LATE: "Oddzwońcie: 600 100 300",
}


async def _answers(services: Services) -> dict[str, object]:
    async with read_session(services.sessions) as session:
        rows = await session.execute(select(col(Response.question_id), col(Response.value)).order_by(col(Response.id)))
        return {f"{question}{index}": value for index, (question, value) in enumerate(rows.all())}


async def _values(services: Services, question_id: str) -> list[object]:
    async with read_session(services.sessions) as session:
        rows = await session.execute(
            select(col(Response.value)).where(col(Response.question_id) == question_id).order_by(col(Response.id))
        )
        return list(rows.scalars())


async def test_old_free_text_is_scrubbed_new_kept_raw_closed_answers_untouched_and_twice_is_once(
    services: Services, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    for phone in (*EARLY, LATE):
        await add_resident(services, phone=phone)
    await launch(services, SUGGESTIONS)
    for phone in EARLY:
        await reply(services, phone, "tak")
        await reply(services, phone, IDEAS[phone])
    clock.advance(days=60)
    await reply(services, LATE, "tak")
    await reply(services, LATE, IDEAS[LATE])
    clock.advance(days=31)  # the early answers are 91 days old, the late one 31

    telemetry = PrometheusTelemetry()
    settings = services.settings.model_copy(update={"retention_batch_size": 2})  # two pages, a cursor
    retention = Retention(services.sessions, settings, clock=services.clock, telemetry=telemetry)
    assert settings.retention_raw_text_days == 90
    assert (await retention.run(actor=OFFICIAL, dry_run=True))[Kind.RAW_TEXT] == 2
    assert await _values(services, "idea") == [IDEAS[phone] for phone in (*EARLY, LATE)]  # a dry run writes nothing

    with caplog.at_level(logging.INFO, logger="outreach.rights.retention"):
        assert (await retention.run(actor=OFFICIAL))[Kind.RAW_TEXT] == 2
    assert "raw_text 2" in caplog.text
    assert telemetry.registry.get_sample_value("outreach_retention_removed_total", {"kind": "raw_text"}) == 2
    assert await _values(services, "idea") == [
        "Więcej ławek, dzwońcie [phone]",
        "Piszcie: [email]",
        "Więcej drzew",
        IDEAS[LATE],  # newer than the cut-off: raw
    ]
    assert await _values(services, "visits") == ["yes"] * 4
    async with read_session(services.sessions) as session:
        marked = await session.execute(
            select(col(Response.text_scrubbed_at)).where(col(Response.question_id) == "idea").order_by(col(Response.id))
        )
        # Every early answer is marked (the one with nothing to mask too), so no later run reads it again.
        assert list(marked.scalars()) == [services.clock()] * 3 + [None]
    # What results and exports show (the scrubbed form) is what they showed before.
    assert [scrub_text(value) for value in await _values(services, "idea") if isinstance(value, str)] == [
        scrub_text(IDEAS[phone]) for phone in (*EARLY, LATE)
    ]

    stored = await _answers(services)
    assert (await retention.run(actor=OFFICIAL))[Kind.RAW_TEXT] == 0
    assert await _answers(services) == stored

    clock.advance(days=60)  # now the late answer is due too
    assert (await retention.run(actor=OFFICIAL))[Kind.RAW_TEXT] == 1
    assert (await _values(services, "idea"))[-1] == "Oddzwońcie: [phone]"


async def test_zero_keeps_raw_text_forever(services: Services, clock: ManualClock) -> None:
    await add_resident(services, phone=LATE)
    await launch(services, SUGGESTIONS)
    await reply(services, LATE, "tak")
    await reply(services, LATE, IDEAS[LATE])
    clock.advance(days=4000)
    settings = services.settings.model_copy(update={"retention_raw_text_days": 0})
    counts = await Retention(services.sessions, settings, clock=services.clock).run(actor=OFFICIAL)
    assert Kind.RAW_TEXT not in counts
    assert await _values(services, "idea") == [IDEAS[LATE]]
