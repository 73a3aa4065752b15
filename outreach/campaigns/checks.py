"""Warnings for an official before launch: what a campaign will cost by SMS, and schedule times
whose offset looks wrong for Gdańsk. Warnings never stop a campaign; errors do (flows.loader)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from channels.base import Choice, Outbound, render_plain
from channels.sms_segments import SegmentCount, count_segments, fold_to_gsm
from flows.campaign import Campaign
from flows.engine import Ask
from flows.preview import PreviewMessage, every_message
from outreach.campaigns.conversations import choice_style
from outreach.settings import Settings

CITY_ZONE = ZoneInfo("Europe/Warsaw")


def sms_text(preview: PreviewMessage, *, fold: bool = False) -> str:
    """The exact SMS body: the text plus its choices as the SMS channel lays them out (folded to
    GSM-7 when the campaign asks)."""
    text = plain_text(preview)
    return fold_to_gsm(text) if fold else text


def plain_text(preview: PreviewMessage) -> str:
    """The text plus its choices as numbered lines (or a scale's values), for channels without buttons."""
    message = preview.message
    if not isinstance(message, Ask):
        return message.text
    return render_plain(
        Outbound(
            key="preview",
            channel="sms",
            address="",
            text=message.text,
            choices=tuple(Choice(choice.key, choice.label) for choice in message.choices),
            choice_style=choice_style(message),
        )
    )


def sms_costs(flow: Campaign, language: str) -> list[tuple[PreviewMessage, SegmentCount]]:
    fold = flow.sms.fold_diacritics
    return [(preview, count_segments(sms_text(preview, fold=fold))) for preview in every_message(flow, language)]


def sms_segment_warnings(flow: Campaign) -> list[str]:
    if "sms" not in flow.channels:
        return []
    warnings = []
    any_ucs2 = False
    for language in flow.languages:
        for preview, cost in sms_costs(flow, language):
            if cost.segments > 1:
                any_ucs2 = any_ucs2 or cost.encoding == "UCS-2"
                cost_text = f"{cost.segments} SMS segments ({cost.encoding}, {cost.units} units)"
                warnings.append(f"{language}: {preview.label} costs {cost_text}")
    if any_ucs2:
        warnings.append(
            "one letter outside GSM-7 (any of ą ć ę ł ń ó ś ź ż, Cyrillic, an emoji) makes a whole SMS UCS-2:"
            " 70 characters in one segment, 67 per part, instead of 160 and 153"
        )
    return warnings


def schedule_offset_warnings(flow: Campaign) -> list[str]:
    warnings = []
    for name, moment in (("start", flow.schedule.start), ("close", flow.schedule.close)):
        if moment is None:
            continue
        expected = moment.astimezone(CITY_ZONE).utcoffset()
        if moment.utcoffset() != expected:
            local = moment.replace(tzinfo=CITY_ZONE)
            warnings.append(
                f"schedule.{name} {moment.isoformat()}: on that date Gdańsk (Europe/Warsaw) is at"
                f" {_offset(moment.astimezone(CITY_ZONE))}; did you mean {local.isoformat()}?"
            )
    return warnings


def _offset(moment: datetime) -> str:
    return moment.isoformat()[-6:]


def campaign_warnings(flow: Campaign) -> list[str]:
    return schedule_offset_warnings(flow) + sms_segment_warnings(flow)


def sender_problems(flow: Campaign, settings: Settings) -> list[str]:
    """Reasons a campaign cannot run with this service's senders (errors, not warnings)."""
    if "sms" in flow.channels and settings.alphanumeric_sms_sender():
        return [
            f"the SMS sender '{settings.twilio_from}' is alphanumeric: residents cannot reply to it, and every"
            " question needs a reply; send from a number (OUTREACH_TWILIO_FROM=+48…) or a Messaging Service,"
            " or drop sms from channels"
        ]
    return []
