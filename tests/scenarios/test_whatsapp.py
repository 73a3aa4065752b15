"""WhatsApp: the service opens a conversation only with its approved template; replies are free text."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer, unused_port

from channels.standins.twilio import TwilioStandIn
from outreach.bootstrap import Services, bootstrap
from outreach.settings import Settings
from outreach.web.app import create_app
from tests.conftest import ManualClock
from tests.factories import add_resident
from tests.outreach.helpers import launch, responses

ACCOUNT_SID = "AC" + "3" * 32
AUTH_TOKEN = "whatsapp-test-token"
WHATSAPP_FROM = "+48500200200"
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
async def world(
    database_url: str, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[Services, TwilioStandIn, str]]:
    monkeypatch.delenv("TWILIO_REGION", raising=False)
    monkeypatch.delenv("TWILIO_EDGE", raising=False)
    async with TwilioStandIn(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN) as standin:
        port = unused_port()
        public_url = f"http://127.0.0.1:{port}"
        settings = Settings(
            database_url=database_url,
            public_url=public_url,
            twilio_account_sid=ACCOUNT_SID,
            twilio_auth_token=AUTH_TOKEN,
            twilio_from="+48500100100",
            twilio_whatsapp_from=WHATSAPP_FROM,
            twilio_api_url=standin.base_url,
            _env_file=None,
        )
        services = bootstrap(settings, clock=clock)
        app: web.Application = create_app(services, run_background=False)
        async with TestClient(TestServer(app, host="127.0.0.1", port=port)):
            yield services, standin, public_url
        await services.close()


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
