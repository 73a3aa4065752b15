"""Driving the service as a resident would: a campaign, a launch, replies through the pipeline."""

from __future__ import annotations

import itertools
from contextlib import AsyncExitStack
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from channels.base import Inbound
from flows.loader import load_campaign
from outreach.bootstrap import Services
from outreach.campaigns.commands import create_campaign, launch_campaign
from outreach.campaigns.launches import LaunchProgress
from outreach.inbound.pipeline import Outcome
from outreach.survey.margins import Margins
from storage.db import STORE_UNAVAILABLE
from storage.tables import InboundEvent, OutboxMessage, Response
from tests.world import store_outage

CAMPAIGN_YAML = """
name: Tramwaj na Morenę
languages: [pl, en]
channels: [sms, email]
reask_unclear: 1
intro: {pl: "Miasto Gdańsk pyta o tramwaj.", en: "The City of Gdańsk asks about the tram."}
questions:
  - id: uses_tram
    type: yesno
    text: {pl: "Czy jeździsz tramwajem?", en: "Do you ride the tram?"}
    next: {no: end}
  - id: frequency
    type: choice
    text: {pl: "Jak często?", en: "How often?"}
    options:
      - {key: daily, text: {pl: codziennie, en: daily}}
      - {key: weekly, text: {pl: co tydzień, en: weekly}, synonyms: [tydzien]}
outro: {pl: "Dziękujemy!", en: "Thank you!"}
"""

_provider_ids = itertools.count(1)


async def launch(services: Services, yaml_text: str = CAMPAIGN_YAML) -> int:
    record = await create_campaign(services.sessions, load_campaign(yaml_text), clock=services.clock)
    report = await launch_campaign(services.sessions, record.slug, clock=services.clock)
    return report.campaign_id


async def launch_cut_by_an_outage(services: Services, reference: str, *, page_size: int) -> None:
    """`campaign launch` in pages of `page_size` residents, the store going down for real after the first."""
    async with AsyncExitStack() as outage:

        async def store_goes_down(progress: LaunchProgress) -> None:
            await outage.enter_async_context(store_outage(services))

        with pytest.raises(STORE_UNAVAILABLE):
            await launch_campaign(
                services.sessions, reference, clock=services.clock, page_size=page_size, progress=store_goes_down
            )


async def reply(
    services: Services, address: str, text: str, *, provider_id: str | None = None, channel: str = "sms"
) -> Outcome:
    inbound = Inbound(
        channel=channel,
        provider_id=provider_id or f"P{next(_provider_ids)}",
        address=address,
        text=text,
        received_at=services.clock(),
    )
    return await services.pipeline.handle(inbound)


async def outbox(services: Services) -> list[OutboxMessage]:
    async with services.sessions() as session:
        return list((await session.execute(select(OutboxMessage).order_by(col(OutboxMessage.id)))).scalars())


async def responses(services: Services) -> list[tuple[str, Any]]:
    async with services.sessions() as session:
        rows = await session.execute(select(col(Response.question_id), col(Response.value)).order_by(col(Response.id)))
        return [(question, value) for question, value in rows.all()]


async def inbound_outcomes(services: Services) -> list[str]:
    async with services.sessions() as session:
        return list((await session.execute(select(col(InboundEvent.outcome)).order_by(col(InboundEvent.id)))).scalars())


# Margins of two districts, and a campaign sampling five residents by district (the sampling tests).
CITY = Margins(
    name="city",
    dimensions={"district": {"oliwa": 600.0, "osowa": 400.0}},
    labels={("district", "oliwa"): "Oliwa", ("district", "osowa"): "Osowa"},
)

SAMPLED = """
name: Park
languages: [pl]
channels: [sms, email]
audience:
  sample: {size: 5, strata: [district], margins: city, seed: 7}
questions:
  - id: visits
    type: yesno
    text: {pl: "Czy bywasz w parku?"}
"""
