"""Delivery reports: unordered and repeated, a status never moves backwards; dead addresses stop."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from channels.base import DeliveryStatus, SendError, Sent
from outreach.bootstrap import Services
from outreach.outbound.delivery_status import record_delivery_status
from storage.tables import ContactAddress
from tests.factories import add_resident
from tests.outreach.helpers import launch, outbox
from tests.outreach.outbound.test_dispatcher import ScriptedChannel, dispatcher_with, failing

PHONE = "+48600100200"


async def _sent_message_id(services: Services) -> str:
    await add_resident(services, phone=PHONE)
    await launch(services)
    await services.dispatcher.drain()
    [message] = await outbox(services)
    assert message.provider_id is not None
    return message.provider_id


def report(provider_id: str, status: str, error: str | None = None) -> DeliveryStatus:
    return DeliveryStatus("sms", provider_id, status, error, reported_at=datetime(2027, 3, 2, tzinfo=UTC))


@pytest.mark.parametrize(
    ("label", "arrivals", "final", "error"),
    [
        ("in order", ["sent", "delivered"], "delivered", None),
        ("delivered before sent", ["delivered", "sent"], "delivered", None),
        ("repeated", ["sent", "sent", "delivered", "delivered"], "delivered", None),
        ("failure keeps its code", ["sent", "failed:30008"], "failed", "30008"),
        ("late queued changes nothing", ["delivered", "queued", "sending"], "delivered", None),
        ("read after delivered", ["delivered", "read"], "read", None),
    ],
)
async def test_status_reports_table(
    services: Services, label: str, arrivals: list[str], final: str, error: str | None
) -> None:
    provider_id = await _sent_message_id(services)
    for arrival in arrivals:
        status, _, code = arrival.partition(":")
        await record_delivery_status(services.sessions, report(provider_id, status, code or None), clock=services.clock)
    [message] = await outbox(services)
    assert (message.delivery_status, message.delivery_error) == (final, error), label


async def test_a_report_for_an_unknown_message_changes_nothing(services: Services) -> None:
    assert not await record_delivery_status(services.sessions, report("SMnope", "delivered"), clock=services.clock)


async def test_a_dead_number_is_marked_unreachable_and_left_out_of_later_campaigns(services: Services) -> None:
    provider_id = await _sent_message_id(services)
    await record_delivery_status(services.sessions, report(provider_id, "undelivered", "30005"), clock=services.clock)
    async with services.sessions() as session:
        contact = (await session.execute(select(ContactAddress))).scalar_one()
    assert contact.unreachable_at == services.clock() and contact.opted_out_at is None
    from outreach.campaigns.commands import launch_campaign
    from tests.outreach.helpers import CAMPAIGN_YAML

    await launch(services, CAMPAIGN_YAML.replace("Tramwaj na Morenę", "Drugi"))
    assert (await launch_campaign(services.sessions, "2", clock=services.clock)).conversations_started == 0


async def test_an_invalid_address_from_the_provider_is_marked_unreachable(services: Services) -> None:
    await add_resident(services, phone=PHONE)
    await launch(services)
    channel = ScriptedChannel("sms", failing(SendError("not a mobile number", retryable=False, address_invalid=True)))
    await dispatcher_with(services, channel).drain()
    [message] = await outbox(services)
    assert (message.status, message.error_class) == ("failed", "permanent")
    async with services.sessions() as session:
        contact = (await session.execute(select(ContactAddress))).scalar_one()
    assert contact.unreachable_at is not None


async def test_a_report_that_beats_our_record_of_the_send_is_applied_when_the_send_is_recorded(
    services: Services,
) -> None:
    await add_resident(services, phone=PHONE)
    await launch(services)
    fixed_id = "SMearly"
    # The provider's callback arrives before the dispatcher has stored the id it got back.
    assert not await record_delivery_status(services.sessions, report(fixed_id, "delivered"), clock=services.clock)
    assert not await record_delivery_status(services.sessions, report(fixed_id, "sent"), clock=services.clock)
    channel = ScriptedChannel("sms", lambda outbound: Sent(fixed_id))
    await dispatcher_with(services, channel).drain()
    [message] = await outbox(services)
    assert (message.provider_id, message.delivery_status) == (fixed_id, "delivered")
