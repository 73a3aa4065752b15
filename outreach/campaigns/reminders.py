"""Whom of a campaign's due reminders to send, by its `reminders` strategy and limit: the counts per
stratum are read here, the decision is outreach.survey.reminder_shares (pure), and the lifecycle
(outreach.campaigns.lifecycle) sends the chosen and passes over the rest. Channel fallback asks the
same of a resident whose address failed (outreach.outbound.fallback).

A campaign without a strategy or limit reminds everyone due, as it always did.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from flows.campaign import Campaign
from outreach.survey.reminder_shares import StratumProgress, lags, share_reminders
from storage.db import SessionFactory, read_session
from storage.outbox import OutboxRepository
from storage.samples import SampleRepository
from storage.tables import Conversation


async def progress_of(session: AsyncSession, campaign_id: int) -> dict[str, StratumProgress]:
    counts = await SampleRepository(session).counts_by_stratum(campaign_id)
    return {stratum: StratumProgress(c.asked, c.answered, c.remindable) for stratum, c in counts.items()}


async def reminders_left(session: AsyncSession, campaign_id: int, flow: Campaign) -> int | None:
    """How many more reminders the campaign's limit allows (None: no limit)."""
    limit = flow.reminders.limit
    if limit is None:
        return None
    return max(limit - await OutboxRepository(session).count_reminders(campaign_id), 0)


async def choose_reminded(
    session: AsyncSession, campaign_id: int, flow: Campaign, due: Sequence[Conversation]
) -> set[int]:
    """The ids of the conversations of `due` (one campaign's, their reminder due now) to remind.

    The strategy shares the reminders left over every stratum's conversations still open to one;
    the due ones of a stratum take its share in proportion (rounded up: reminders due later see the
    share again, recomputed from what is left), earliest due first."""
    if not flow.reminders.shared_out:
        return {conversation.id for conversation in due if conversation.id is not None}
    progress = await progress_of(session, campaign_id)
    shares = share_reminders(flow.reminders.strategy, progress, await reminders_left(session, campaign_id, flow))
    strata = await SampleRepository(session).strata_of(campaign_id, [c.resident_id for c in due])
    by_stratum: dict[str, list[Conversation]] = {}
    for conversation in due:
        by_stratum.setdefault(strata[conversation.resident_id], []).append(conversation)
    chosen: set[int] = set()
    for stratum, conversations in by_stratum.items():
        remindable = progress[stratum].remindable if stratum in progress else 0
        if not remindable:
            continue
        take = min(len(conversations), math.ceil(len(conversations) * shares.get(stratum, 0) / remindable))
        chosen.update(c.id for c in conversations[:take] if c.id is not None)
    return chosen


async def may_fall_back(session: AsyncSession, campaign_id: int, resident_id: int, flow: Campaign) -> bool:
    """Whether a resident whose address failed may be asked on their next channel: always, but under
    `lagging_strata` not in a stratum past its target (it answers above the campaign's rate)."""
    if flow.reminders.strategy != "lagging_strata":
        return True
    progress = await progress_of(session, campaign_id)
    stratum = (await SampleRepository(session).strata_of(campaign_id, [resident_id]))[resident_id]
    return stratum not in progress or lags(progress, stratum)


@dataclass(frozen=True)
class ReminderProgress:
    """How a campaign's reminders stand (`campaign status`)."""

    sent: int  # reminders queued so far
    left: int | None  # under the limit (None: no limit)
    strata: int  # strata with residents asked
    past_target: int  # of them, answering above the campaign's rate: no further reminders there
    rate: float  # the campaign's response rate


async def reminder_progress(sessions: SessionFactory, campaign_id: int, flow: Campaign) -> ReminderProgress:
    async with read_session(sessions) as session:
        progress = await progress_of(session, campaign_id)
        sent = await OutboxRepository(session).count_reminders(campaign_id)
        left = await reminders_left(session, campaign_id, flow)
    asked = sum(p.asked for p in progress.values())
    answered = sum(p.answered for p in progress.values())
    past = sum(not lags(progress, stratum) for stratum in progress)
    return ReminderProgress(sent, left, len(progress), past, answered / asked if asked else 0.0)
