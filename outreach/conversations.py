"""Turning the engine's effects into rows: answers, outbox messages and conversation status.

Called inside the caller's transaction, so the answer, the new state and the next message are
committed together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from flows.engine import Ask, Complete, Effect, Record, Say
from storage.outbox import NewMessage, OutboxRepository
from storage.responses import ResponseRepository


@dataclass(frozen=True)
class ConversationContext:
    campaign_id: int
    resident_id: int
    respondent: str
    contact_id: int
    channel: str


def question_key(campaign_id: int, resident_id: int, question_id: str, attempt: int) -> str:
    """One key per resident, campaign, question and re-ask: a retry of the same message reuses it."""
    return f"q:{campaign_id}:{resident_id}:{question_id}:{attempt}"


async def apply_effects(
    session: AsyncSession,
    context: ConversationContext,
    effects: Iterable[Effect],
    *,
    inbound_event_id: int | None,
    now: datetime,
) -> bool:
    """Store what the engine decided; True when the conversation completed."""
    outbox = OutboxRepository(session)
    responses = ResponseRepository(session)
    completed = False
    for effect in effects:
        if isinstance(effect, Ask):
            await outbox.enqueue(
                NewMessage(
                    idempotency_key=question_key(
                        context.campaign_id, context.resident_id, effect.question_id, effect.attempt
                    ),
                    campaign_id=context.campaign_id,
                    resident_id=context.resident_id,
                    contact_id=context.contact_id,
                    kind="question",
                    text=effect.text,
                    choices=[{"key": choice.key, "label": choice.label} for choice in effect.choices],
                ),
                now=now,
            )
        elif isinstance(effect, Say):
            await outbox.enqueue(
                NewMessage(
                    idempotency_key=f"say:{context.campaign_id}:{context.resident_id}:{effect.key}",
                    campaign_id=context.campaign_id,
                    resident_id=context.resident_id,
                    contact_id=context.contact_id,
                    kind="say",
                    text=effect.text,
                ),
                now=now,
            )
        elif isinstance(effect, Record):
            await responses.record_once(
                campaign_id=context.campaign_id,
                question_id=effect.question_id,
                resident_id=context.resident_id,
                respondent=context.respondent,
                value=effect.value,
                channel=context.channel,
                inbound_event_id=inbound_event_id,
                answered_at=now,
            )
        elif isinstance(effect, Complete):
            completed = True
    return completed
