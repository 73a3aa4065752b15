"""Sending a campaign's messages to an official's own address, marked [TEST]: straight through the
channel (its provider, or the sandbox), never through the outbox, so nothing is stored, queued or
counted in results or participation. The CLI's `campaign test-send` and the preview page both use it."""

from __future__ import annotations

from collections.abc import Mapping

from channels.base import Channel, SendError, Sent
from flows.campaign import Campaign
from outreach.campaigns.commands import CampaignCommandError
from outreach.campaigns.preview import test_messages


async def send_test(
    channels: Mapping[str, Channel], flow: Campaign, *, channel: str, language: str, address: str, every: bool = True
) -> list[Sent]:
    """The campaign's messages in `language` to `address` on `channel`: all of them, or (every=False)
    the first one, which opens the conversation with the intro."""
    if language not in flow.languages:
        raise CampaignCommandError(f"the campaign has no {language} texts; it has {', '.join(flow.languages)}")
    sender = channels.get(channel)
    if sender is None:
        raise CampaignCommandError(f"channel {channel} is not enabled here ({', '.join(sorted(channels))} are)")
    messages = test_messages(flow, language, channel, address)
    sent = []
    for number, outbound in enumerate(messages if every else messages[:1], start=1):
        try:
            sent.append(await sender.send(outbound))
        except SendError as error:
            raise CampaignCommandError(f"message {number} was refused: {error}") from None
    return sent
