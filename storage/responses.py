"""Responses: one row per resident, campaign and question, never two."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.dialect import insert_for
from storage.statements import bound, per_dialect, run
from storage.tables import Response, SampledResident
from storage.webhook_events import RESPONSE_CREATED, record_event

RESPONSES: Table = Response.__table__  # type: ignore[attr-defined]
_FIELDS = (
    "campaign_id",
    "question_id",
    "resident_id",
    "respondent",
    "value",
    "channel",
    "inbound_event_id",
    "answered_at",
    "language",
    "attributes",
)


@per_dialect
def _record_once(dialect: str) -> Any:
    """The answer, with the inclusion probability its campaign's sample drew the resident with."""
    sampled: Table = SampledResident.__table__  # type: ignore[attr-defined]
    drawn_with = (
        select(sampled.c.inclusion_probability)
        .where(sampled.c.campaign_id == bindparam("campaign_id"))
        .where(sampled.c.resident_id == bindparam("resident_id"))
        .scalar_subquery()
    )
    return (
        insert_for(dialect, RESPONSES)
        .values({**{name: bound(RESPONSES, name) for name in _FIELDS}, "inclusion_probability": drawn_with})
        .on_conflict_do_nothing(index_elements=["campaign_id", "resident_id", "question_id"])
        .returning(RESPONSES.c.id)
    )


class ResponseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def record_once(
        self,
        *,
        campaign_id: int,
        question_id: str,
        resident_id: int,
        respondent: str,
        value: Any,
        channel: str,
        inbound_event_id: int | None,
        answered_at: datetime,
        language: str,
        attributes: Mapping[str, Any],
        announce: bool = True,
    ) -> bool:
        """Store the answer with the respondent's `language` and `attributes` as they are now, and the
        inclusion probability the campaign's sample drew them with (the snapshot that exports and
        results read); False when this question already has one from this resident. `announce`: False
        when the caller knows, in this transaction, that no webhook subscriber takes the campaign's answers."""
        result = await run(
            self._session,
            _record_once(self._session),
            {
                "campaign_id": campaign_id,
                "question_id": question_id,
                "resident_id": resident_id,
                "respondent": respondent,
                "value": value,
                "channel": channel,
                "inbound_event_id": inbound_event_id,
                "answered_at": answered_at,
                "language": language,
                "attributes": dict(attributes),
            },
        )
        response_id = result.scalar_one_or_none()
        if response_id is None:
            return False
        if not announce:
            return True
        facts = {"response_id": response_id}
        await record_event(self._session, RESPONSE_CREATED, campaign_id=campaign_id, facts=facts, now=answered_at)
        return True

    async def value_of(self, *, campaign_id: int, resident_id: int, question_id: str) -> Any:
        """The answer stored for this question (None when there is none, or it ended unanswered)."""
        result = await self._session.execute(
            select(col(Response.value))
            .where(col(Response.campaign_id) == campaign_id)
            .where(col(Response.resident_id) == resident_id)
            .where(col(Response.question_id) == question_id)
        )
        return result.scalar_one_or_none()
