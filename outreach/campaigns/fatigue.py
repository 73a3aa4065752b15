"""Fatigue: a resident is asked by at most OUTREACH_MAX_ASKS campaigns in OUTREACH_ASK_WINDOW_DAYS
days, sampled campaign or not. An ask is a campaign's first question sent to them, on its way, or
waiting for their address (storage.samples.SampleRepository.asks_since). Every launch and scheduled
start opens only the eligible (outreach.campaigns.launches); a sampled campaign draws among them
(outreach.campaigns.sampling); `campaign preview` counts those held back before anything is sent."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from flows.campaign import Campaign
from outreach.settings import Settings
from storage.campaigns import ConversationRepository
from storage.db import SessionFactory, read_session
from storage.residents import ResidentRepository
from storage.samples import SampleRepository

READ_PAGE = 1000


@dataclass(frozen=True)
class Fatigue:
    """A resident is asked by at most `max_asks` campaigns in `window_days` days (OUTREACH_MAX_ASKS,
    OUTREACH_ASK_WINDOW_DAYS)."""

    max_asks: int = 2
    window_days: int = 30

    def describe(self) -> str:
        return (
            f"asked by {self.max_asks} campaign{'s' if self.max_asks != 1 else ''} in the last {self.window_days}"
            " days (OUTREACH_MAX_ASKS, OUTREACH_ASK_WINDOW_DAYS)"
        )


DEFAULT_FATIGUE = Fatigue()


def fatigue_of(settings: Settings) -> Fatigue:
    return Fatigue(settings.max_asks, settings.ask_window_days)


async def asks_of(
    session: AsyncSession, campaign_id: int | None, *, now: datetime, fatigue: Fatigue, among: Collection[int] | None
) -> dict[int, int]:
    """How many other campaigns asked each resident (of `among`, or of all) within the window."""
    since = now - timedelta(days=fatigue.window_days)
    return await SampleRepository(session).asks_since(since, other_than=campaign_id, among=among)


async def held_back_among(
    session: AsyncSession, campaign_id: int, resident_ids: Iterable[int], *, now: datetime, fatigue: Fatigue
) -> set[int]:
    """The residents (of a launch's page) fatigue holds back from this campaign: asked `max_asks`
    times lately by other campaigns and not already in a conversation of this one."""
    ids = list(resident_ids)
    if not ids:
        return set()
    asks = await asks_of(session, campaign_id, now=now, fatigue=fatigue, among=ids)
    tired = {resident_id for resident_id in ids if asks.get(resident_id, 0) >= fatigue.max_asks}
    if not tired:
        return set()
    return tired - await ConversationRepository(session).residents_among(campaign_id, tired)


@dataclass(frozen=True)
class FatigueSplit:
    """A campaign's audience now: who may be asked, and how many fatigue holds back."""

    eligible: set[int]
    held_back: int


async def fatigue_split(
    sessions: SessionFactory,
    campaign_id: int | None,
    flow: Campaign,
    *,
    now: datetime,
    fatigue: Fatigue,
    stop_above: int | None = None,
) -> FatigueSplit:
    """The audience as a launch now would split it (`campaign_id` None: a file not created yet).
    `stop_above`: only whether more than that many are eligible is wanted, so reading stops at the
    page that shows it (the split then covers the pages read)."""
    eligible: set[int] = set()
    held_back = 0
    after_id: int | None = 0
    while after_id is not None and (stop_above is None or len(eligible) <= stop_above):
        async with read_session(sessions) as session:
            scan = await ResidentRepository(session).audience_members(
                where=flow.audience.where, channels=flow.channels, after_id=after_id, limit=READ_PAGE
            )
            after_id = scan.after_id
            ids = [member.id for member, _ in scan.page]
            if campaign_id is None:
                asks = await asks_of(session, None, now=now, fatigue=fatigue, among=ids)
                held = {resident_id for resident_id in ids if asks.get(resident_id, 0) >= fatigue.max_asks}
            else:
                held = await held_back_among(session, campaign_id, ids, now=now, fatigue=fatigue)
        eligible.update(resident_id for resident_id in ids if resident_id not in held)
        held_back += len(held)
    return FatigueSplit(eligible, held_back)
