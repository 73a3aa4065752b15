"""The webhook worker runs inside the web service's background work (as `outreach serve` runs it): a
launch through the API reaches a loopback subscriber with nobody calling the worker by hand."""

from __future__ import annotations

import asyncio
import json

from tests.conftest import ManualClock
from tests.factories import add_resident
from tests.outreach.web.api.helpers import auth, draft
from tests.outreach.webhooks_out.helpers import subscribe
from tests.outreach.webhooks_out.subscriber import LoopbackSubscriber
from tests.providers import SANDBOX_SECRET
from tests.world import open_world


async def test_the_service_posts_events_by_itself(database_url: str, clock: ManualClock) -> None:
    async with (
        LoopbackSubscriber() as subscriber,
        open_world(
            database_url,
            clock,
            background=True,
            sandbox_secret=SANDBOX_SECRET,
            webhooks_allow_http=True,
            webhooks_allow_private=True,
            webhooks_poll_seconds=0.05,
        ) as world,
    ):
        await subscribe(world.services, subscriber, events=["campaign.status_changed"])
        await add_resident(world.services, phone="+48600100201")
        writer = await auth(world.services, "campaigns:write")
        campaign_id = await draft(world.services)
        launched = await world.client.post(f"/api/v1/campaigns/{campaign_id}/launch", headers=writer)
        assert launched.status == 200, await launched.text()
        await asyncio.wait_for(subscriber.arrived.wait(), timeout=20)
    (post,) = subscriber.delivered()
    data = json.loads(post.body)["data"]
    assert (data["campaign"]["id"], data["from"], data["to"]) == (campaign_id, "draft", "active")
