"""WhatsApp: the service opens a conversation only with its approved template; replies are free text."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from channels.standins.twilio import TwilioStandIn
from outreach.bootstrap import Services
from tests.conftest import ManualClock
from tests.factories import add_resident
from tests.outreach.helpers import launch, responses
from tests.providers import WHATSAPP_FROM
from tests.world import open_world

PHONE = "+48600100200"
TEMPLATE = "HX" + "ab" * 16

CAMPAIGN = f"""
name: Park na WhatsAppie
languages: [pl, uk]
channels: [whatsapp]
whatsapp:
  content_sid: {TEMPLATE}
  variables: {{"1": {{pl: "Park Oruński", uk: "Оруньський парк"}}}}
schedule: {{quiet_hours: null, reminders: [24h]}}
questions:
  - {{id: visits, type: yesno, text: {{pl: "Czy bywasz w parku?", uk: "Чи буваєте в парку?"}}}}
  - {{id: rating, type: scale, min: 1, max: 5, text: {{pl: "Oceń park", uk: "Оцініть парк"}}}}
"""


@pytest.fixture
async def world(database_url: str, clock: ManualClock) -> AsyncIterator[tuple[Services, TwilioStandIn, str]]:
    async with open_world(database_url, clock, twilio=True, twilio_whatsapp_from=WHATSAPP_FROM) as opened:
        yield opened.services, opened.twilio, opened.public_url


async def test_the_first_message_and_reminders_use_the_template_replies_are_free_text(
    world: tuple[Services, TwilioStandIn, str], clock: ManualClock
) -> None:
    services, standin, public_url = world
    await add_resident(services, whatsapp=PHONE, language="uk")
    await launch(services, CAMPAIGN)
    await services.dispatcher.drain()
    [opening] = standin.requests
    assert opening.form["To"] == f"whatsapp:{PHONE}" and opening.form["From"] == f"whatsapp:{WHATSAPP_FROM}"
    assert opening.form["ContentSid"] == TEMPLATE and "Body" not in opening.form
    assert json.loads(opening.form["ContentVariables"]) == {"1": "Оруньський парк"}

    clock.advance(hours=24)
    await services.lifecycle.tick()
    await services.dispatcher.drain()
    assert standin.requests[1].form["ContentSid"] == TEMPLATE  # a reminder opens the window again

    await standin.deliver_inbound(
        f"{public_url}/webhooks/twilio/sms", from_=f"whatsapp:{PHONE}", to=WHATSAPP_FROM, body="так"
    )
    await services.dispatcher.drain()
    follow_up = standin.requests[2].form
    assert "ContentSid" not in follow_up and follow_up["Body"].startswith("Оцініть парк")
    assert await responses(services) == [("visits", "yes")]
