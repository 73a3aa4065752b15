"""Replies handled at the same moment share one transaction and one commit (storage.group_commit, what
`serve` does on SQLite): on both databases, a reply delivered twice inside one group counts once, and one
resident's two replies in one group are taken in order, as if one after the other."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from channels.base import Inbound
from outreach.bootstrap import Services
from outreach.campaigns.parsed_flows import CampaignDefinitions
from outreach.inbound.pipeline import InboundPipeline, Outcome
from tests.factories import add_resident
from tests.outreach.helpers import inbound_outcomes, launch, outbox, responses

ANNA, OLA = "+48600100200", "+48600100300"


def grouped_pipeline(services: Services) -> InboundPipeline:
    return InboundPipeline(
        services.sessions,
        CampaignDefinitions(),
        organisation=services.settings.organisation,
        clock=services.clock,
        spread=timedelta(0),
        age_bands=services.settings.age_bands,
        group_commits=services.sessions,
    )


def sms(services: Services, address: str, text: str, provider_id: str) -> Inbound:
    return Inbound(channel="sms", provider_id=provider_id, address=address, text=text, received_at=services.clock())


async def test_a_reply_delivered_twice_inside_one_group_is_stored_once(services: Services) -> None:
    await add_resident(services, phone=ANNA)
    await add_resident(services, phone=OLA)
    await launch(services)
    pipeline = grouped_pipeline(services)
    outcomes = await asyncio.gather(
        pipeline.handle(sms(services, ANNA, "tak", "SM1")),
        pipeline.handle(sms(services, ANNA, "tak", "SM1")),  # the provider's retry, in the same group
        pipeline.handle(sms(services, OLA, "nie", "SM2")),
    )
    assert list(outcomes) == [Outcome.ANSWERED, Outcome.DUPLICATE, Outcome.ANSWERED]
    assert pipeline.grouped_commits == 1
    assert sorted(await responses(services)) == [("uses_tram", "no"), ("uses_tram", "yes")]
    assert await inbound_outcomes(services) == ["answered", "answered"]


async def test_one_residents_replies_inside_one_group_are_taken_in_order(services: Services) -> None:
    await add_resident(services, phone=ANNA)
    campaign_id = await launch(services)
    pipeline = grouped_pipeline(services)
    outcomes = await asyncio.gather(
        pipeline.handle(sms(services, ANNA, "tak", "SM1")),
        pipeline.handle(sms(services, ANNA, "2", "SM2")),
    )
    assert list(outcomes) == [Outcome.ANSWERED, Outcome.ANSWERED]
    assert await responses(services) == [("uses_tram", "yes"), ("frequency", "weekly")]
    assert [m.idempotency_key for m in await outbox(services)] == [
        f"q:{campaign_id}:1:uses_tram:0",
        f"q:{campaign_id}:1:frequency:0",
        f"say:{campaign_id}:1:outro",
    ]
