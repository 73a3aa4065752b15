"""A campaign's live progress per channel, as `outreach campaign status` shows it (and --watch follows
it until the campaign is idle)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from channels.delivery_status import FAILED, REACHED
from storage.campaign_progress import OutboxTally, answered_by_channel, outbox_tally
from storage.campaigns import CampaignRepository
from storage.db import SessionFactory, read_session
from storage.launches import OPENING

NOT_SENT_YET = frozenset({"queued", "held", "sending"})
NEVER_ARRIVED = FAILED | {"canceled"}  # a provider's report on a sent message that did not arrive


@dataclass(frozen=True)
class ChannelProgress:
    channel: str
    queued: int = 0  # not sent yet: waiting, held while paused, or being sent
    sent: int = 0  # the provider took it; no report (yet) that it arrived or did not
    delivered: int = 0  # the provider reported it arrived
    failed: int = 0  # refused, given up, or reported undelivered
    unknown: int = 0  # a send whose outcome no one knows (the connection dropped mid-request)
    answered: int = 0  # residents who answered at least one question on this channel
    due: int = 0  # of the queued: being sent or due by now (the rest wait for later)

    @property
    def settled(self) -> int:
        return self.sent + self.delivered + self.failed + self.unknown

    @property
    def total(self) -> int:
        """Messages of the campaign on this channel (cancelled ones aside)."""
        return self.settled + self.queued


@dataclass(frozen=True)
class CampaignProgress:
    campaign_id: int
    slug: str
    status: str  # the campaign's: draft, scheduled, active, paused, closed
    launching: bool  # the launch is still opening conversations
    channels: list[ChannelProgress] = field(default_factory=list)

    @property
    def idle(self) -> bool:
        """Nothing more happens now: the launch is done, and no message is being sent or due. Messages
        queued for later (quiet hours, a retry's back-off, a paused campaign) wait without us."""
        return not self.launching and not any(channel.due for channel in self.channels)

    @property
    def waiting(self) -> int:
        """Messages queued for later (not due now)."""
        return sum(channel.queued - channel.due for channel in self.channels)


def tally_channels(tallies: Iterable[OutboxTally], answered: dict[str, int]) -> list[ChannelProgress]:
    """Each channel's counts from the outbox's rows (by status and delivery report) and the answers."""
    progress: dict[str, ChannelProgress] = {
        name: ChannelProgress(name, answered=count) for name, count in answered.items()
    }
    for tally in tallies:
        current = progress.get(tally.channel) or ChannelProgress(tally.channel)
        column = _column(tally)
        if column is None:
            continue
        current = replace(current, **{column: getattr(current, column) + tally.messages})
        progress[tally.channel] = replace(current, due=current.due + tally.due)
    return [progress[name] for name in sorted(progress)]


def _column(tally: OutboxTally) -> str | None:
    if tally.status in NOT_SENT_YET:
        return "queued"
    if tally.status in ("failed", "unknown"):
        return tally.status
    if tally.status == "sent":
        if tally.delivery_status in REACHED:
            return "delivered"
        return "failed" if tally.delivery_status in NEVER_ARRIVED else "sent"
    return None  # cancelled: the campaign closed or the resident stopped before it went


async def campaign_progress(sessions: SessionFactory, campaign_id: int, *, now: datetime) -> CampaignProgress:
    async with read_session(sessions) as session:
        record = await CampaignRepository(session).get(campaign_id)
        tallies = await outbox_tally(session, campaign_id, now)
        answered = await answered_by_channel(session, campaign_id)
    return CampaignProgress(
        campaign_id=campaign_id,
        slug=record.slug,
        status=record.status,
        launching=record.launch_state == OPENING and record.status != "closed",
        channels=tally_channels(tallies, answered),
    )
