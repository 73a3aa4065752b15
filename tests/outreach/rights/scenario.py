"""A resident with three addresses who answered one campaign (free text naming her phone and email),
was asked by a second, answered it once and said STOP; three neighbours answered the first too."""

from __future__ import annotations

from dataclasses import dataclass

from outreach.audit import Actor
from outreach.bootstrap import Services
from outreach.inbound.pipeline import Outcome
from outreach.rights.requests import ResidentRequests
from tests.factories import add_resident
from tests.outreach.helpers import CAMPAIGN_YAML, launch, reply
from tests.outreach.web.api.helpers import PEOPLE, SURVEY_YAML

OFFICIAL = Actor("official", "7", "Anna from the data protection office")
PHONE = "+48600100299"
NATIONAL = "600100299"
EMAIL = "Ola.Nowak@Example.org"
CHAT_ID = "7312094558"
SURNAME = "Nowakowska-Zielinska"  # an attribute an import brought, that no result splits by
FREE_TEXT = "dzwońcie 601 234 567 albo piszcie ola.nowak@example.org"
# Every form the erased resident's data is stored in, compared in lower case (the national digits are
# inside every E.164 and WhatsApp form of the number).
TRACES = (NATIONAL, EMAIL.lower(), CHAT_ID, SURNAME.lower(), "601 234 567", "ola.nowak@example.org")


@dataclass(frozen=True)
class Scenario:
    survey_id: int
    tram_id: int
    pseudonym: str


async def answered_and_stopped(services: Services) -> Scenario:
    for phone, language, district, _ in PEOPLE:
        await add_resident(services, phone=phone, language=language, district=district, age_band="30-44")
    target = await add_resident(
        services, phone=PHONE, email=EMAIL, telegram=CHAT_ID, district="Orunia", age_band="30-44", surname=SURNAME
    )
    survey_id = await launch(services, SURVEY_YAML)
    for phone, _, _, replies in PEOPLE:
        for text in replies:
            await reply(services, phone, text)
    for text in ("1", "4", FREE_TEXT):
        assert await reply(services, PHONE, text) is Outcome.ANSWERED
    tram_id = await launch(services, CAMPAIGN_YAML)
    assert await reply(services, PHONE, "tak") is Outcome.ANSWERED
    assert await reply(services, PHONE, "STOP") is Outcome.STOPPED
    return Scenario(survey_id, tram_id, target.pseudonym)


def requests(services: Services) -> ResidentRequests:
    return ResidentRequests(services.sessions, services.settings, clock=services.clock)
