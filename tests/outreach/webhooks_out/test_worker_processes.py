"""Two `outreach dispatch` OS processes deliver one set of webhook events side by side: the subscriber
holds its posts until more are in flight than one process posts at once (so both were posting), and
still every event arrives once, under its own webhook-id, all recorded as delivered."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from outreach.bootstrap import Services
from outreach.webhooks_out.deliverer import POSTS_AT_ONCE
from storage.webhook_events import CAMPAIGN_STATUS_CHANGED, record_event
from storage.webhook_tables import WebhookDelivery
from tests.conftest import ManualClock
from tests.outreach.web.api.helpers import draft
from tests.outreach.webhooks_out.helpers import subscribe
from tests.outreach.webhooks_out.subscriber import LoopbackSubscriber

EVENTS = 120


def _worker(database_url: str) -> subprocess.Popen[bytes]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("OUTREACH_")}
    env.update(
        OUTREACH_DATABASE_URL=database_url,
        OUTREACH_WEBHOOKS_ALLOW_HTTP="true",
        OUTREACH_WEBHOOKS_ALLOW_PRIVATE="true",
        OUTREACH_WEBHOOKS_TIMEOUT_SECONDS="60",  # the subscriber holds posts until both workers post
        OUTREACH_LOG_LEVEL="WARNING",
    )
    command = [sys.executable, "-m", "outreach.cli", "dispatch", "--until-idle"]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.slow
async def test_two_worker_processes_post_every_event_once(
    services: Services, database_url: str, clock: ManualClock
) -> None:
    clock.now = datetime.now(UTC)  # the workers run on the wall clock: the deliveries must be due for them
    async with LoopbackSubscriber(hold_until=POSTS_AT_ONCE + 1) as subscriber:
        await subscribe(services, subscriber, events=[CAMPAIGN_STATUS_CHANGED])
        campaign_id = await draft(services)
        async with services.sessions() as session, session.begin():
            for number in range(EVENTS):
                facts = {"from": "active", "to": f"paused {number}"}
                await record_event(session, CAMPAIGN_STATUS_CHANGED, campaign_id=campaign_id, facts=facts, now=clock())
        workers = [_worker(database_url) for _ in range(2)]
        for worker in workers:
            _, stderr = await asyncio.to_thread(worker.communicate, timeout=180)
            assert worker.returncode == 0, stderr.decode()
    assert subscriber.released, "one process posted alone"
    per_id = Counter(post.headers["webhook-id"] for post in subscriber.posts)
    assert len(per_id) == EVENTS and set(per_id.values()) == {1}
    async with services.sessions() as session:
        statuses = dict(
            (
                await session.execute(
                    select(col(WebhookDelivery.status), func.count()).group_by(col(WebhookDelivery.status))
                )
            ).all()
        )
        workers_seen = (
            await session.execute(select(func.count(func.distinct(col(WebhookDelivery.claimed_by)))))
        ).scalar_one()
    assert statuses == {"delivered": EVENTS} and workers_seen == 2
