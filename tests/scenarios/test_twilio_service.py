"""The service with Twilio configured, end to end over real sockets: the dispatcher sends through the
real SDK to the stand-in, the stand-in calls our webhooks signed as Twilio does, answers land."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from channels.standins.twilio import SIGNATURE_HEADER, TwilioStandIn, twilio_signature
from outreach.bootstrap import Services
from outreach.inbound.pipeline import Outcome
from storage.tables import ContactAddress
from tests.conftest import ManualClock
from tests.factories import add_resident
from tests.outreach.helpers import inbound_outcomes, launch, outbox, responses
from tests.providers import SMS_FROM as SENDER
from tests.providers import TWILIO_ACCOUNT_SID as ACCOUNT_SID
from tests.providers import TWILIO_AUTH_TOKEN as AUTH_TOKEN
from tests.world import AppClient, open_world

PHONE = "+48600100200"
# A port nothing listens on: the database is "down".
UNREACHABLE_DATABASE = "postgresql+asyncpg://postgres@127.0.0.1:9/test"


@dataclass
class TwilioWorld:
    services: Services
    standin: TwilioStandIn
    client: AppClient
    public_url: str  # what Twilio is told to call, and signs


@pytest.fixture
async def world(database_url: str, clock: ManualClock) -> AsyncIterator[TwilioWorld]:
    async with open_world(database_url, clock, twilio=True) as opened:
        yield TwilioWorld(opened.services, opened.twilio, opened.client, opened.public_url)


async def test_only_twilio_serves_when_it_is_configured(world: TwilioWorld) -> None:
    assert sorted(world.services.channels) == ["sms"]
    assert world.services.sandboxes == {}


async def test_a_question_goes_out_and_the_reply_comes_back(world: TwilioWorld) -> None:
    services, standin = world.services, world.standin
    await add_resident(services, phone=PHONE)
    await launch(services)
    assert await services.dispatcher.drain() == 1
    [sent] = standin.requests
    assert sent.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert sent.form["To"] == PHONE and sent.form["From"] == SENDER
    assert sent.form["Body"].endswith("Czy jeździsz tramwajem?\n1) tak\n2) nie")
    assert sent.form["StatusCallback"] == f"{world.public_url}/webhooks/twilio/status#rc=5&rp=all"
    [message] = await outbox(services)
    assert message.provider_id == standin.messages[0].sid and message.segments == 1

    status, _ = await standin.deliver_inbound(
        f"{world.public_url}/webhooks/twilio/sms", from_=PHONE, to=SENDER, body="Tak"
    )
    assert status == 200
    assert await responses(services) == [("uses_tram", "yes")]


async def test_inbound_webhook_table(world: TwilioWorld) -> None:
    """Courier-style rows: signature, dedupe by MessageSid, the TwiML answer."""
    services, client = world.services, world.client
    await add_resident(services, phone=PHONE)
    await launch(services)
    url = f"{world.public_url}/webhooks/twilio/sms"
    form = {"MessageSid": "SM" + "a" * 32, "From": PHONE, "To": SENDER, "Body": "tak", "NumMedia": "0"}
    signed = {SIGNATURE_HEADER: twilio_signature(AUTH_TOKEN, url, form)}
    rows = [
        ("no signature", form, {}, 403),
        ("wrong token", form, {SIGNATURE_HEADER: twilio_signature("guess", url, form)}, 403),
        ("tampered body", {**form, "Body": "nie"}, signed, 403),
        ("other URL", form, {SIGNATURE_HEADER: twilio_signature(AUTH_TOKEN, url + "?x=1", form)}, 403),
        ("valid", form, signed, 200),
        ("Twilio retries the same message", form, signed, 200),
    ]
    for label, body, headers, expected in rows:
        response = await client.post("/webhooks/twilio/sms", data=body, headers=headers)
        assert response.status == expected, label
        if expected == 200:
            assert response.content_type == "text/xml" and "<Response" in await response.text()
    assert await responses(services) == [("uses_tram", "yes")]  # stored once
    assert await inbound_outcomes(services) == ["answered"]


async def test_status_callbacks_never_move_backwards(world: TwilioWorld) -> None:
    services, standin = world.services, world.standin
    await add_resident(services, phone=PHONE)
    await launch(services)
    await services.dispatcher.drain()
    sid = standin.messages[0].sid
    assert await standin.deliver_status(sid, "delivered") == 200
    assert await standin.deliver_status(sid, "sent") == 200  # late and out of order
    [message] = await outbox(services)
    assert message.delivery_status == "delivered"


async def test_a_stop_twilio_already_confirmed_gets_no_second_confirmation(world: TwilioWorld) -> None:
    services, standin = world.services, world.standin
    await add_resident(services, phone=PHONE)
    await launch(services)
    url = f"{world.public_url}/webhooks/twilio/sms"
    await standin.deliver_inbound(url, from_=PHONE, to=SENDER, body="STOP", opt_out_type="STOP")
    assert await inbound_outcomes(services) == [Outcome.STOPPED_BY_PROVIDER.value]
    assert [m.kind for m in await outbox(services)] == ["question"]  # no confirmation of ours
    assert await services.dispatcher.drain() == 0  # and the question is not sent either


async def test_21610_from_twilio_opts_the_number_out(world: TwilioWorld) -> None:
    services, standin = world.services, world.standin
    await add_resident(services, phone=PHONE)
    await launch(services)
    standin.script(to=PHONE, status=400, code=21610)
    await services.dispatcher.drain()
    [message] = await outbox(services)
    assert (message.status, message.error_class) == ("failed", "stop_contact")
    async with services.sessions() as session:
        contact = (await session.execute(select(ContactAddress))).scalar_one()
    assert contact.opted_out_at is not None


async def test_the_service_spools_twilios_reply_and_answers_200_while_the_database_is_down(clock: ManualClock) -> None:
    async with open_world(UNREACHABLE_DATABASE, clock, twilio=True) as world:
        url = world.url("/webhooks/twilio/sms")
        status, _ = await world.twilio.deliver_inbound(url, from_=PHONE, to=SENDER, body="tak")
        # Twilio retries a 503 for only ~15 s: the reply waits on disk for the database instead.
        assert (status, len(world.services.spool.pending())) == (200, 1)
