"""Results back to residents, as rows: which closed campaigns still owe their respondents the results,
and who those respondents are (the address they answered on, unless they said STOP)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.tables import CampaignRecord, ContactAddress, Conversation, Resident, Response


@dataclass(frozen=True)
class ResultsRecipient:
    resident_id: int
    contact_id: int
    channel: str  # of the address the conversation (and so the answers) went through
    language: str  # the resident's, now
    timezone: str | None  # the resident's: quiet hours are in their local time
    attributes: Mapping[str, Any]  # as on their first answer: the district their answers counted under
    last_inbound_at: datetime | None  # WhatsApp lets the service write freely for 24 hours after it


class ResultsBackRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def due(self) -> list[CampaignRecord]:
        """Closed campaigns whose results have not gone back yet."""
        result = await self._session.execute(
            select(CampaignRecord)
            .where(col(CampaignRecord.status) == "closed")
            .where(col(CampaignRecord.results_back_at).is_(None))
            .order_by(col(CampaignRecord.id))
        )
        return list(result.scalars())

    async def mark_done(self, campaign_id: int, *, now: datetime) -> None:
        await self._session.execute(
            update(CampaignRecord)
            .where(col(CampaignRecord.id) == campaign_id)
            .where(col(CampaignRecord.results_back_at).is_(None))
            .values(results_back_at=now)
        )

    async def recipients(self, campaign_id: int, *, after: int = 0, limit: int = 500) -> list[ResultsRecipient]:
        """Residents who answered at least one question, by resident id after `after`: on the address of
        their conversation, unless the conversation was stopped or the address opted out (STOP, or the
        provider's stop) or is dead."""
        answered = and_(
            col(Response.campaign_id) == campaign_id,
            col(Response.resident_id) == col(Conversation.resident_id),
            col(Response.value).is_not(None),
        )
        first_answer = (
            select(col(Response.attributes)).where(answered).order_by(col(Response.id)).limit(1).scalar_subquery()
        )
        statement = (
            select(
                col(Conversation.resident_id),
                col(ContactAddress.id),
                col(ContactAddress.channel),
                col(Resident.language),
                col(Resident.attributes),
                first_answer,
                col(ContactAddress.last_inbound_at),
            )
            .join(ContactAddress, col(ContactAddress.id) == col(Conversation.contact_id))
            .join(Resident, col(Resident.id) == col(Conversation.resident_id))
            .where(col(Conversation.campaign_id) == campaign_id)
            .where(col(Conversation.resident_id) > after)
            .where(col(Conversation.status) != "stopped")
            .where(col(ContactAddress.opted_out_at).is_(None))
            .where(col(ContactAddress.unreachable_at).is_(None))
            .where(exists().where(answered))
            .order_by(col(Conversation.resident_id))
            .limit(limit)
        )
        recipients = []
        for resident_id, contact_id, channel, language, attributes, snapshot, last_inbound in (
            await self._session.execute(statement)
        ).all():
            timezone = attributes.get("timezone")
            if isinstance(snapshot, str):  # a JSON value from a scalar subquery may come back as its text
                snapshot = json.loads(snapshot)
            recipients.append(
                ResultsRecipient(
                    resident_id=resident_id,
                    contact_id=contact_id,
                    channel=channel,
                    language=language,
                    timezone=timezone if isinstance(timezone, str) else None,
                    attributes=snapshot if isinstance(snapshot, dict) else {},
                    last_inbound_at=last_inbound,
                )
            )
        return recipients
