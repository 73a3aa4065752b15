"""Retention of residents' own words in free-text answers: once older than the cut-off, an answer to a
text question keeps only its scrubbed form (phone numbers, e-mail addresses and PESEL numbers masked,
outreach.privacy.scrubber), which is all that results, exports and the API ever showed of it, so no
published figure changes. Pages of answers go by id after a cursor, a transaction each, and are marked
scrubbed (`responses.text_scrubbed_at`), so a daily run reads only the answers that came due since the
last; a value with nothing to mask is left as it is and not counted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from flows.campaign import Campaign
from outreach.privacy.scrubber import scrub_text
from storage.db import SessionFactory, read_session
from storage.free_text_answers import answers_before, mark_scrubbed
from storage.tables import CampaignRecord


async def text_questions(session: AsyncSession) -> dict[int, frozenset[str]]:
    """Each campaign's text questions (campaign id: question ids); campaigns without one are absent."""
    rows = await session.execute(select(col(CampaignRecord.id), col(CampaignRecord.definition)))
    questions: dict[int, frozenset[str]] = {}
    for campaign_id, definition in rows.all():
        ids = frozenset(q.id for q in Campaign.model_validate(definition).questions if q.type == "text")
        if ids:
            questions[int(campaign_id)] = ids
    return questions


async def scrub_raw_text(
    sessions: SessionFactory, before: datetime, *, now: datetime, batch: int, dry_run: bool = False
) -> int:
    """Replace the free-text answers given before `before` by their scrubbed form, marked scrubbed at
    `now` (with `dry_run`, only count them): how many answers changed (or would)."""
    async with read_session(sessions) as session:
        questions = await text_questions(session)
    changed, cursor = 0, 0
    while True:
        async with sessions() as session, session.begin():
            page = await answers_before(session, questions, before, after_id=cursor, limit=batch)
            scrubbed: dict[int, str] = {}
            for response_id, value in page:
                if isinstance(value, str) and (masked := scrub_text(value)) != value:
                    scrubbed[response_id] = masked
            if page and not dry_run:
                await mark_scrubbed(session, [response_id for response_id, _ in page], scrubbed, now)
        changed += len(scrubbed)
        if len(page) < batch:
            return changed
        cursor = page[-1][0]
