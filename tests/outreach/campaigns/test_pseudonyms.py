"""Respondent pseudonyms: stable within a campaign, unlinkable across campaigns, keyed."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from outreach.bootstrap import Services
from outreach.campaigns.pseudonyms import respondent_pseudonym
from storage.tables import Response
from tests.factories import add_resident
from tests.outreach.helpers import CAMPAIGN_YAML, launch, reply

PHONE = "+48600100200"


def test_pseudonyms_depend_on_resident_campaign_and_key() -> None:
    assert respondent_pseudonym("k", 1, 1) == respondent_pseudonym("k", 1, 1)
    assert len({respondent_pseudonym("k", 1, 1), respondent_pseudonym("k", 1, 2), respondent_pseudonym("k", 2, 1)}) == 3
    assert respondent_pseudonym("k", 1, 1) != respondent_pseudonym("other key", 1, 1)


async def test_one_resident_has_one_pseudonym_per_campaign(services: Services) -> None:
    resident = await add_resident(services, phone=PHONE)
    await launch(services)
    second = CAMPAIGN_YAML.replace("Tramwaj na Morenę", "Rowery").replace("uses_tram", "uses_bike")
    await launch(services, second)
    for text in ("tak", "codziennie", "nie"):
        await reply(services, PHONE, text)
    async with services.sessions() as session:
        rows = (
            await session.execute(
                select(col(Response.campaign_id), col(Response.respondent)).order_by(col(Response.id))
            )
        ).all()
    by_campaign = {campaign: {respondent for c, respondent in rows if c == campaign} for campaign, _ in rows}
    assert all(len(pseudonyms) == 1 for pseudonyms in by_campaign.values())  # stable within a campaign
    assert by_campaign[1] != by_campaign[2]  # unlinkable across campaigns
    assert resident.pseudonym not in {respondent for _, respondent in rows}
