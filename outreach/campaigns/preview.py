"""`campaign preview`: what residents will see on each channel, and what the SMS part will cost."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field

from channels.base import Choice, Outbound
from channels.email_composition import subject_of
from channels.sms_segments import SegmentCount, count_segments, fold_to_gsm
from flows.campaign import Campaign
from flows.engine import Ask
from flows.explanation import Explanation
from flows.preview import PreviewMessage, every_message
from outreach.campaigns.checks import plain_text, sms_text
from outreach.campaigns.conversations import choice_style, question_key
from outreach.campaigns.pricing import price_for
from storage.address_keys import address_keys
from storage.db import SessionFactory, read_session
from storage.residents import ResidentRepository

# A Telegram message as the channel sends it: its text and its buttons' labels, row by row. Given by the
# caller (the officials' preview page passes channels.telegram_keyboards' layout): the Telegram library
# stays out of every command that only names this module (outreach.campaigns.commands imports it).
TelegramLayout = Callable[[Outbound], tuple[str, tuple[tuple[str, ...], ...]]]


@dataclass(frozen=True)
class ChannelText:
    label: str
    text: str  # as one block of text; Telegram's buttons in [brackets]
    segments: SegmentCount | None = None  # SMS only
    body: str = ""  # what the message's bubble holds, without Telegram's buttons
    buttons: tuple[tuple[str, ...], ...] = ()  # Telegram's keyboard, row by row
    subject: str = ""  # email only
    label_explanation: Explanation | None = None  # the label's template, for translated pages


def channel_texts(
    flow: Campaign, channel: str, language: str, telegram_layout: TelegramLayout | None = None
) -> list[ChannelText]:
    """Every message as residents on `channel` will see it (with `telegram_layout`, Telegram's bubble
    and buttons apart; without, its buttons in [brackets] in the text)."""
    texts = []
    for index, preview in enumerate(every_message(flow, language)):
        if channel == "sms":
            text = sms_text(preview, fold=flow.sms.fold_diacritics)
            texts.append(
                ChannelText(preview.label, text, count_segments(text), body=text, label_explanation=preview.explanation)
            )
        elif channel == "whatsapp" and index == 0 and flow.whatsapp is not None:
            variables = {name: value.get(language, "") for name, value in flow.whatsapp.variables.items()}
            text = f"[approved template {flow.whatsapp.content_sid}, variables {variables}]"
            texts.append(ChannelText(preview.label, text, body=text, label_explanation=preview.explanation))
        elif channel == "telegram":
            text = _with_buttons(preview)
            body, rows = telegram_layout(_outbound(preview, "telegram")) if telegram_layout else (text, ())
            texts.append(
                ChannelText(preview.label, text, body=body, buttons=rows, label_explanation=preview.explanation)
            )
        else:
            text = plain_text(preview)
            subject = subject_of(preview.message.text) if channel == "email" else ""
            texts.append(
                ChannelText(preview.label, text, body=text, subject=subject, label_explanation=preview.explanation)
            )
    return texts


def _outbound(preview: PreviewMessage, channel: str) -> Outbound:
    """The message as a channel is handed it (a question's key, so a channel offers its buttons)."""
    message = preview.message
    if not isinstance(message, Ask):
        return Outbound(key="preview", channel=channel, address="", text=message.text)
    return Outbound(
        key=question_key(0, 0, message.question_id, 0),
        channel=channel,
        address="",
        text=message.text,
        choices=tuple(Choice(choice.key, choice.label) for choice in message.choices),
        choice_style=choice_style(message),
        submit_label=message.submit_label,
    )


def _with_buttons(preview: PreviewMessage) -> str:
    message = preview.message
    if not isinstance(message, Ask) or not message.choices:
        return message.text
    if message.submit_label is not None:  # a multi question: toggles, then "done"
        toggles = " ".join(f"[☐ {number}) {choice.label}]" for number, choice in enumerate(message.choices, start=1))
        return f"{message.text}\n{toggles} [✓ {message.submit_label}]"
    return message.text + "\n" + " ".join(f"[{choice.label}]" for choice in message.choices)


@dataclass
class SmsCost:
    """Segments and money for the SMS part of the audience: a floor (everyone gets the opening and
    every reminder) and a ceiling (everyone also answers every question)."""

    residents: Counter[str] = field(default_factory=Counter)  # per language
    floor_segments: int = 0
    ceiling_segments: int = 0
    floor_cost: float = 0.0
    ceiling_cost: float = 0.0
    unpriced: set[str] = field(default_factory=set)  # number prefixes without a price (priced at the highest)


async def sms_cost(
    sessions: SessionFactory, flow: Campaign, prices: Mapping[str, float], *, among: Collection[int] | None = None
) -> SmsCost:
    """The SMS cost of the audience, or of the residents `among` it (a sampled campaign's draw)."""
    per_language: dict[str, tuple[int, int]] = {}
    for language in flow.languages:
        segments = {
            p.label: count_segments(sms_text(p, fold=flow.sms.fold_diacritics)).segments
            for p in every_message(flow, language)
        }
        opening = next(iter(segments.values()))
        reminders = sum(v for label, v in segments.items() if label.endswith("(reminder)")) * len(
            flow.schedule.reminders
        )
        rest = sum(v for label, v in list(segments.items())[1:] if not label.endswith(("(re-ask)", "(reminder)")))
        per_language[language] = (opening + reminders, opening + reminders + rest)
    cost = SmsCost()
    after_id: int | None = 0
    while after_id is not None:
        async with read_session(sessions) as session:
            scan = await ResidentRepository(session).audience_members(
                where=flow.audience.where, channels=flow.channels, after_id=after_id, limit=1000, sealed=True
            )
        after_id = scan.after_id
        keys = address_keys(session)
        for member, contact in scan.page:
            if contact.channel != "sms" or (among is not None and member.id not in among):
                continue
            language = member.language if member.language in flow.languages else flow.default_language
            floor, ceiling = per_language[language]
            assert contact.sealed is not None
            address = keys.open(contact.channel, contact.sealed)  # the price is the number's country's
            price, known = price_for(address, prices)
            if not known:
                cost.unpriced.add(address[:4])
            cost.residents[language] += 1
            cost.floor_segments += floor
            cost.ceiling_segments += ceiling
            cost.floor_cost += floor * price
            cost.ceiling_cost += ceiling * price
    return cost


TEST_MARK = "[TEST] "


def guess_channel(address: str) -> str:
    """sms for a phone number, email for an address with @, telegram for a bare chat id."""
    if "@" in address:
        return "email"
    return "sms" if address.startswith("+") else "telegram"


def test_messages(flow: Campaign, language: str, channel: str, address: str) -> list[Outbound]:
    """Every message of the campaign as one resident could get it, marked as a test (keys that are
    no outbox key, so no channel offers answer buttons that would be counted)."""
    run = uuid.uuid4().hex[:8]
    messages = []
    for number, preview in enumerate(every_message(flow, language), start=1):
        message = preview.message
        choices = tuple(Choice(c.key, c.label) for c in message.choices) if isinstance(message, Ask) else ()
        text = message.text
        if channel == "sms" and flow.sms.fold_diacritics:
            text = fold_to_gsm(text)
        messages.append(
            Outbound(
                key=f"test:{run}:{number}",
                channel=channel,
                address=address,
                text=f"{TEST_MARK}{preview.label}\n{text}",
                choices=choices,
                choice_style=choice_style(message) if isinstance(message, Ask) else "numbered",
            )
        )
    return messages
