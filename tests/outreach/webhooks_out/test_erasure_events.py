"""An erasure reaches webhook subscribers: a `respondent.erased` tombstone per campaign, written in the
erasure's transaction and delivered like any event; and the events about the erased resident's answers
and conversations are gone, delivered or not, so no retry or replay hands out their old respondent id."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from sqlmodel import col

from outreach.bootstrap import Services
from outreach.rights.requests import ResidentRequests
from storage.webhook_tables import WebhookDelivery, WebhookEvent
from tests.conftest import ManualClock
from tests.outreach.webhooks_out.helpers import OPERATOR, subscribe
from tests.outreach.webhooks_out.subscriber import LoopbackSubscriber
from tests.outreach.webhooks_out.test_delivery import ALL_EVENTS, consultation

EVENTS = [*ALL_EVENTS, "respondent.erased"]
ERASED_PHONE = "+48600100201"  # the consultation's resident from Orunia, who answers both questions


def bodies(posts: list[Any]) -> list[dict[str, Any]]:
    return [json.loads(post.body) for post in posts]


async def stored(services: Services) -> tuple[str, int]:
    """Every stored event's facts and payload, as text; and the deliveries held."""
    async with services.sessions() as session:
        events = (await session.execute(select(col(WebhookEvent.facts), col(WebhookEvent.payload)))).all()
        deliveries = (await session.execute(select(func.count()).select_from(WebhookDelivery))).scalar_one()
    return json.dumps([tuple(row) for row in events]), int(deliveries)


async def test_subscribers_get_a_tombstone_and_nothing_more_of_the_erased_respondent(
    services: Services, clock: ManualClock
) -> None:
    async with LoopbackSubscriber() as healthy, LoopbackSubscriber(failures=None) as failing:
        await subscribe(services, healthy, events=EVENTS)
        await subscribe(services, failing, events=EVENTS)  # every event of theirs still to be delivered
        campaign_id = await consultation(services)
        await services.webhooks.drain()
        answers = [body for body in bodies(healthy.delivered()) if body["type"] == "response.created"]
        old = next(body["data"]["respondent"] for body in answers if body["data"]["attributes"]["district"] == "Orunia")
        kept = next(body["data"]["respondent"] for body in answers if body["data"]["attributes"]["district"] == "Oliwa")
        text_before, _ = await stored(services)
        assert old in text_before

        requests = ResidentRequests(services.sessions, services.settings, clock=services.clock)
        erased = await requests.erase(ERASED_PHONE, actor=OPERATOR)
        assert erased.erased.webhook_events == 3  # two answers and the completion
        text_after, deliveries = await stored(services)
        assert old not in text_after and kept in text_after
        # The launch, the neighbour's answer and completion, to each subscriber; none of the erased one's.
        assert deliveries == 2 * 3

        erased_on = clock().date().isoformat()
        seen = len(healthy.posts), len(failing.posts)
        clock.advance(days=1)
        await services.webhooks.drain()
        after = bodies(healthy.posts[seen[0] :]) + bodies(failing.posts[seen[1] :])

    tombstones = [body for body in bodies(healthy.delivered()) if body["type"] == "respondent.erased"]
    assert [body["data"] for body in tombstones] == [
        {
            "campaign": {"id": campaign_id, "slug": tombstones[0]["data"]["campaign"]["slug"]},
            "respondent": old,
            "erased_on": erased_on,
        }
    ]
    assert tombstones[0]["timestamp"].endswith("T00:00:00Z")  # the day, as the erasures feed tells it
    assert all(body["type"] == "respondent.erased" for body in after if old in json.dumps(body))
    assert {body["type"] for body in after} == {"respondent.erased"}  # the failing one's retries: none of hers
