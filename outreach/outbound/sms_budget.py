"""A campaign's SMS budget at the send (issue 18): each SMS reserves its cost in the transaction that
marks it `sending`, so sends under way at once can never together spend past the budget; over it, the
send does not start. The reservation goes back when the send surely never left (storage.sms_spend);
a send of unknown outcome keeps it, so one confirmed later is already counted."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from outreach.campaigns.parsed_flows import CampaignDefinitions
from outreach.campaigns.pricing import price_for
from outreach.clock import Clock
from storage import sms_spend
from storage.campaigns import CampaignRepository
from storage.outbox import ClaimedMessage, OutboxRepository
from storage.tables import CampaignRecord

log = logging.getLogger(__name__)


class SmsBudget:
    def __init__(self, prices: Mapping[str, float], definitions: CampaignDefinitions | None, clock: Clock) -> None:
        self._prices = prices  # per segment, by number prefix
        self._definitions = definitions  # without them no budget is known: the spend is only counted
        self._clock = clock

    def cost(self, message: ClaimedMessage, segments: int) -> float:
        """What an SMS of `segments` costs at its destination's price; 0 for other channels."""
        if message.channel != "sms" or not self._prices:
            return 0.0
        price, _ = price_for(message.address, self._prices)
        return segments * price

    async def reserve(self, session: AsyncSession, message: ClaimedMessage, cost: float) -> bool:
        """Take `cost` from the message's campaign's budget, atomically; False: it would exceed it,
        and the message was held (or failed, see `_over_budget`)."""
        if not cost or message.campaign_id is None:
            return True
        campaigns = CampaignRepository(session)
        record = await campaigns.get(message.campaign_id)
        budget = self._definitions.flow(record).budget if self._definitions is not None else None
        if await sms_spend.reserve(session, message.campaign_id, cost, budget=budget):
            await sms_spend.hold(session, message.id, cost)
            return True
        assert budget is not None
        await session.refresh(record)
        await self._over_budget(session, message, record, budget)
        return False

    async def bill(self, session: AsyncSession, message: ClaimedMessage, units: int, billed_segments: int) -> None:
        """The provider's segment count is the bill: the difference from what its start reserved (the
        segments we counted) is added to the spend and noted on the row."""
        if message.campaign_id is None:
            return
        billed, reserved = self.cost(message, billed_segments), self.cost(message, units)
        if billed != reserved:
            await CampaignRepository(session).add_spent(message.campaign_id, billed - reserved)
            await sms_spend.hold(session, message.id, billed)

    async def _over_budget(
        self, session: AsyncSession, message: ClaimedMessage, record: CampaignRecord, budget: float
    ) -> None:
        """The SMS that would exceed the budget does not go: the campaign pauses, says why, and its
        messages wait (an official may raise the budget and resume). A closed campaign cannot resume,
        so its message (results back, the only kind it still sends) fails, saying so, instead of
        waiting as held for good."""
        outbox = OutboxRepository(session)
        spent = f"spent {record.spent:.2f} of {budget:.2f}"
        if record.status == "closed":
            await outbox.mark_failed(
                message.id, error_class="over_budget", detail=f"SMS budget reached after the close: {spent}"
            )
            log.warning("campaign %s: SMS budget reached after the close; outbox %s not sent", record.id, message.id)
            return
        await outbox.hold(message.id)
        if record.status == "active":
            assert record.id is not None
            await outbox.hold_campaign(record.id)
            paused = await CampaignRepository(session).set_status(record.id, "paused", now=self._clock())
            paused.paused_because = f"budget reached: {spent}"
            session.add(paused)
        log.warning("campaign %s: SMS budget reached; paused", message.campaign_id)
