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
from outreach.errors import Explanation
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


SEGMENTS = "%(language)s: %(label)s costs %(segments)s SMS segments (%(encoding)s, %(units)s units)"
UCS2 = (
    "one letter outside GSM-7 (any of ą ć ę ł ń ó ś ź ż, Cyrillic, an emoji) makes a whole SMS UCS-2:"
    " 70 characters in one segment, 67 per part, instead of 160 and 153"
)
SCHEDULE_OFFSET = (
    "schedule.%(name)s %(moment)s: on that date Gdańsk (Europe/Warsaw) is at %(offset)s; did you mean %(local)s?"
)


def sms_segment_warnings(flow: Campaign) -> list[Explanation]:
    if "sms" not in flow.channels:
        return []
    warnings = []
    any_ucs2 = False
    for language in flow.languages:
        for preview, cost in sms_costs(flow, language):
            if cost.segments > 1:
                any_ucs2 = any_ucs2 or cost.encoding == "UCS-2"
                label = preview.explanation or preview.label
                params: dict[str, object] = {"language": language, "label": label, "segments": cost.segments}
                params |= {"encoding": cost.encoding, "units": cost.units}
                warnings.append(Explanation("sms_segments", SEGMENTS, params))
    if any_ucs2:
        warnings.append(Explanation("sms_ucs2", UCS2))
    return warnings


def schedule_offset_warnings(flow: Campaign) -> list[Explanation]:
    warnings = []
    for name, moment in (("start", flow.schedule.start), ("close", flow.schedule.close)):
        if moment is None:
            continue
        expected = moment.astimezone(CITY_ZONE).utcoffset()
        if moment.utcoffset() != expected:
            local = moment.replace(tzinfo=CITY_ZONE)
            params = {"name": name, "moment": moment.isoformat(), "offset": _offset(moment.astimezone(CITY_ZONE))}
            params["local"] = local.isoformat()
            warnings.append(Explanation("schedule_offset", SCHEDULE_OFFSET, params))
    return warnings


def _offset(moment: datetime) -> str:
    return moment.isoformat()[-6:]


def campaign_explained_warnings(flow: Campaign) -> list[Explanation]:
    """The warnings with their codes and parameters, for pages that show them in the reader's language."""
    return schedule_offset_warnings(flow) + sms_segment_warnings(flow)


def campaign_warnings(flow: Campaign) -> list[str]:
    """The warnings in English, as the CLI prints them and the API returns them."""
    return [warning.text for warning in campaign_explained_warnings(flow)]


def sender_problems(flow: Campaign, settings: Settings) -> list[str]:
    """Reasons a campaign cannot run with this service's senders (errors, not warnings)."""
    if "sms" in flow.channels and settings.alphanumeric_sms_sender():
        return [
            f"the SMS sender '{settings.twilio_from}' is alphanumeric: residents cannot reply to it, and every"
            " question needs a reply; send from a number (OUTREACH_TWILIO_FROM=+48…) or a Messaging Service,"
            " or drop sms from channels"
        ]
    return []
