"""The API's campaign status counts the sends of unknown outcome reconciliation resent or gave up."""

from __future__ import annotations

from outreach.bootstrap import Services
from outreach.outbound.dispatcher import Dispatcher, DispatchPolicy
from tests.factories import add_resident
from tests.outreach.helpers import CAMPAIGN_YAML, launch, outbox
from tests.outreach.outbound.test_reconciliation import LosingChannel
from tests.outreach.web.api.conftest import AppClient
from tests.outreach.web.api.helpers import auth


async def test_status_counts_what_was_resent_and_given_up(services: Services, api: AppClient) -> None:
    await add_resident(services, telegram="555")
    campaign_id = await launch(services, CAMPAIGN_YAML.replace("channels: [sms, email]", "channels: [telegram]"))
    [question] = await outbox(services)
    worker = Dispatcher(
        services.sessions,
        {"telegram": LosingChannel({question.idempotency_key})},
        worker_id="api-test",
        policy=DispatchPolicy(),
        clock=services.clock,
        definitions=services.definitions,
    )
    await worker.drain()
    await worker.reconcile_unknown()
    response = await api.get(f"/api/v1/campaigns/{campaign_id}/status", headers=await auth(services, "campaigns:read"))
    status = await response.json()
    assert status["unknown_outcomes"] == {"confirmed": 0, "not_seen": 0, "resent": 1, "given_up": 0}
