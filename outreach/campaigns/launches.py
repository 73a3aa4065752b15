"""Opening a launched campaign's conversations with its audience: a page of residents per
transaction, resumable, by one worker at a time.

The campaign row carries the launch's state ("opening" until everyone in the audience has a
conversation or a recorded skip, then "opened") and its cursor (the last resident id gone past),
committed with each page. A launch cut short (an outage, a restart) is taken up where it stopped by
`campaign launch` run again or by the lifecycle tick of any worker. Each page first renews the
campaign's lease inside its own transaction: another worker waits until the lease runs out (its
holder died) instead of opening beside it, and a holder whose lease was taken over commits nothing
more. A resident whose data the database refuses is skipped and recorded, and the page goes on;
residents other campaigns asked too often lately are held back and counted (outreach.campaigns.fatigue).
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Protocol, TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from flows.campaign import Campaign
from outreach.campaigns.batch_opening import open_conversations
from outreach.campaigns.conversations import open_conversation
from outreach.campaigns.fatigue import DEFAULT_FATIGUE, Fatigue, held_back_among
from outreach.campaigns.pseudonyms import PSEUDONYM_KEY
from outreach.campaigns.sampling import draw_sample
from outreach.clock import Clock
from storage import failures
from storage.bulk import PlannerStatistics
from storage.campaigns import CampaignRepository, ConversationRepository
from storage.db import STORE_UNAVAILABLE, SessionFactory, read_session
from storage.failures import StoreFailure
from storage.keys import installation_key
from storage.launches import OPENED, OPENING, LaunchRepository, SkippedResident
from storage.leases import hold_lease, release_lease
from storage.residents import ResidentRepository
from storage.samples import SampleRepository
from storage.tables import CampaignRecord, ContactAddress, Resident

log = logging.getLogger(__name__)

PAGE_SIZE = 5000  # residents per transaction: fewer statements per resident, a few MB a page
# Renewed with every page, so it only has to outlast one page; a dead holder's runs out this long after.
LAUNCH_LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class LaunchProgress:
    """What one run of the opening did, so far."""

    opened: int = 0  # conversations this run opened
    skipped: int = 0  # residents this run had to skip
    held_back: int = 0  # residents this run held back by fatigue (a sampled campaign's draw: in its design)
    finished: bool = False  # nobody is left to open: the whole audience was gone through, or the campaign closed
    scanned: int = 0  # residents of the register this run went past (in the audience or not): a progress bar's


Progress = Callable[[LaunchProgress], Awaitable[None]]


def launch_lease(campaign_id: int) -> str:
    return f"launch:{campaign_id}"


def this_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


async def open_audience(
    sessions: SessionFactory,
    campaign_id: int,
    *,
    clock: Clock,
    spread: timedelta,
    pseudonym_secret: str | None = None,
    worker_id: str | None = None,
    page_size: int = PAGE_SIZE,
    progress: Progress | None = None,
    fatigue: Fatigue = DEFAULT_FATIGUE,
) -> LaunchProgress:
    """Open conversations from where the campaign's launch stopped to the end of its audience, while
    this run holds the launch's lease; `progress` hears after each committed page. Residents other
    campaigns asked too often lately are held back (`fatigue`), page by page. A sampled campaign draws
    its sample first among the eligible (once: in the first page's transaction) and opens only the drawn."""
    # One holder per run: an API launch and a tick in the same process exclude each other too.
    holder = f"{(worker_id or this_worker())[:50]}/{secrets.token_hex(4)}"
    async with sessions() as session, session.begin():
        key = pseudonym_secret or await installation_key(session, PSEUDONYM_KEY, now=clock())
    done = LaunchProgress()
    statistics = PlannerStatistics("conversations", "outbox")
    try:
        while True:
            async with sessions() as session, session.begin():
                lease = launch_lease(campaign_id)
                if not await hold_lease(session, lease, holder=holder, now=clock(), ttl=LAUNCH_LEASE):
                    return done  # another worker is opening it
                record = await CampaignRepository(session).get(campaign_id)
                if record.launch_state != OPENING or record.status not in ("active", "paused"):
                    # Opened, or closed meanwhile: nobody is to be asked any more.
                    return replace(done, finished=True)
                flow = Campaign.model_validate(record.definition)
                if flow.audience.sample is not None and await SampleRepository(session).design(campaign_id) is None:
                    await draw_sample(session, campaign_id, flow, now=clock(), fatigue=fatigue)
                page = await _open_page(
                    session,
                    record,
                    flow,
                    pseudonym_key=key,
                    clock=clock,
                    spread=spread,
                    size=page_size,
                    fatigue=fatigue,
                )
                await statistics.wrote(session, page.opened)
            done = LaunchProgress(
                done.opened + page.opened,
                done.skipped + page.skipped,
                done.held_back + page.held_back,
                page.finished,
                done.scanned + page.scanned,
            )
            if progress is not None:
                await progress(done)
            if done.finished:
                return done
    finally:
        with contextlib.suppress(*STORE_UNAVAILABLE):  # in an outage the lease simply runs out
            async with sessions() as session, session.begin():
                await release_lease(session, launch_lease(campaign_id), holder=holder, now=clock())


async def _open_page(
    session: AsyncSession,
    record: CampaignRecord,
    flow: Campaign,
    *,
    pseudonym_key: str,
    clock: Clock,
    spread: timedelta,
    size: int,
    fatigue: Fatigue,
) -> LaunchProgress:
    assert record.id is not None
    campaign_id = record.id
    scan = await ResidentRepository(session).audience_members(
        where=flow.audience.where, channels=flow.channels, after_id=record.launch_cursor, limit=size
    )
    after_id = scan.after_id
    page = await _drawn_only(session, campaign_id, flow, scan.page)
    held: set[int] = set()
    if flow.audience.sample is None:  # a sample was drawn among the eligible: the drawn are all asked
        ids = [resident.id for resident, _ in page]
        held = await held_back_among(session, campaign_id, ids, now=clock(), fatigue=fatigue)
        page = [(resident, contact) for resident, contact in page if resident.id not in held]
    launches = LaunchRepository(session)
    skipped_before = await launches.skipped_among(campaign_id, [resident.id for resident, _ in page])
    try:
        async with session.begin_nested():  # refused: the page's writes are undone, and it goes one by one
            opened = await open_conversations(
                session, record, flow, page, pseudonym_key=pseudonym_key, now=clock(), spread=spread
            )
        skipped = 0
        await launches.unskip(campaign_id, skipped_before)  # their data was put right since
    except (DBAPIError, UnicodeError) as error:
        if failures.classify(error) is StoreFailure.OUTAGE:
            raise  # the page is not committed, and the launch goes on from it later
        loaded = await ResidentRepository(session).with_contacts([(member.id, address.id) for member, address in page])
        opened, skipped = await _open_one_by_one(
            session, record, flow, loaded, skipped_before, pseudonym_key=pseudonym_key, clock=clock, spread=spread
        )
    await launches.advance(campaign_id, cursor=after_id, held_back=len(held))
    return LaunchProgress(opened, skipped, len(held), finished=after_id is None, scanned=scan.scanned)


async def _open_one_by_one(
    session: AsyncSession,
    record: CampaignRecord,
    flow: Campaign,
    page: list[tuple[Resident, ContactAddress]],
    skipped_before: set[int],
    *,
    pseudonym_key: str,
    clock: Clock,
    spread: timedelta,
) -> tuple[int, int]:
    """The page a resident at a time, each in a savepoint: one the database refuses is skipped and
    recorded (never their data, only the kind of refusal), and the others are opened. (opened, skipped)"""
    assert record.id is not None
    campaign_id = record.id
    launches = LaunchRepository(session)
    opened = skipped = 0
    for resident, contact in page:
        resident_id, pseudonym = resident.id, resident.pseudonym
        assert resident_id is not None
        try:
            async with session.begin_nested():  # a refused resident undoes only their own rows
                started = await open_conversation(
                    session, record, flow, resident, contact, pseudonym_key=pseudonym_key, now=clock(), spread=spread
                )
        except (DBAPIError, UnicodeError) as error:
            if failures.classify(error) is StoreFailure.OUTAGE:
                raise
            reason = f"the database refused the resident's data: {failures.reason(error)}"
            await launches.skip(campaign_id, resident_id, reason=reason, now=clock())
            log.warning("launch of campaign %s: resident %s skipped: %s", campaign_id, pseudonym, reason)
            skipped += 1
            continue
        if resident_id in skipped_before:
            await launches.unskip(campaign_id, {resident_id})
        opened += int(started)
    return opened, skipped


class _Identified(Protocol):
    @property
    def id(self) -> int | None: ...


R = TypeVar("R", bound=_Identified)
A = TypeVar("A")


async def _drawn_only(
    session: AsyncSession, campaign_id: int, flow: Campaign, page: list[tuple[R, A]]
) -> list[tuple[R, A]]:
    """The residents of a page a sampled campaign drew (all of them when it asks everyone)."""
    if flow.audience.sample is None:
        return page
    drawn = await SampleRepository(session).drawn_among(campaign_id, [r.id for r, _ in page if r.id is not None])
    return [(resident, contact) for resident, contact in page if resident.id in drawn]


@dataclass(frozen=True)
class AudienceProgress:
    """How far a campaign's launch has gone through its audience."""

    state: str | None  # None (not launched yet), "opening", "opened"
    opened: int  # residents with a conversation in this campaign
    skipped: int  # residents the launch had to skip (their reasons: `skips`)
    remaining: int  # audience members the launch has not reached yet
    held_back: int = 0  # residents fatigue held back (the latest pass; a sampled campaign: its draw)


async def audience_progress(sessions: SessionFactory, record: CampaignRecord) -> AudienceProgress:
    """The counts `campaign status` shows. Reaching the rest means reading the audience past the
    cursor, so it is counted only while some of it remains (a launch opening, or none yet)."""
    assert record.id is not None
    async with read_session(sessions) as session:
        opened = sum((await ConversationRepository(session).count_by_status(record.id)).values())
        skipped = await LaunchRepository(session).count_skipped(record.id)
        held_back = await held_back_by_launch(session, record)
    remaining = 0
    if record.launch_state != OPENED:
        flow = Campaign.model_validate(record.definition)
        after_id: int | None = record.launch_cursor if record.launch_state == OPENING else 0
        while after_id is not None:
            async with read_session(sessions) as session:
                scan = await ResidentRepository(session).audience_members(
                    where=flow.audience.where, channels=flow.channels, after_id=after_id, limit=1000
                )
                after_id = scan.after_id
                remaining += len(await _drawn_only(session, record.id, flow, scan.page))
    return AudienceProgress(record.launch_state, opened, skipped, remaining, held_back)


async def held_back_by_launch(session: AsyncSession, record: CampaignRecord) -> int:
    """Residents fatigue held back from the campaign: its draw's, or its launch's latest pass."""
    assert record.id is not None
    design = await SampleRepository(session).design(record.id)
    if design is not None:
        return sum(int(stratum["held_back"]) for stratum in design.allocation)
    return record.launch_held_back


async def register_to_go(sessions: SessionFactory, record: CampaignRecord) -> int:
    """Residents of the register a launch of the campaign starting now goes through (a progress bar's
    total): past its cursor when a launch is still opening, else all of them."""
    after_id = record.launch_cursor if record.launch_state == OPENING else 0
    async with read_session(sessions) as session:
        return await ResidentRepository(session).count(after_id=after_id)


async def skipped_residents(sessions: SessionFactory, campaign_id: int, *, limit: int = 50) -> list[SkippedResident]:
    async with read_session(sessions) as session:
        return await LaunchRepository(session).skipped(campaign_id, limit=limit)
