"""Conversations as rows: opening them, and turning the engine's effects into answers, outbox
messages and timers.

Called inside the caller's transaction, so the answer, the new state and the next message are
committed together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

import channels.base
from channels.sms_segments import fold_to_gsm
from flows.campaign import Campaign
from flows.engine import Ask, Choice, Complete, Effect, Record, Say, start
from outreach.campaigns.parsed_flows import CampaignDefinitions
from outreach.campaigns.pseudonyms import respondent_pseudonym
from outreach.campaigns.quiet_hours import QuietHours, release_time, resident_zone
from storage.campaigns import CampaignRepository, ConversationRepository
from storage.outbox import NewMessage, OutboxRepository
from storage.residents import ResidentRepository
from storage.responses import ResponseRepository
from storage.tables import CampaignRecord, ContactAddress, Conversation, Resident


@dataclass(frozen=True)
class Delivery:
    """Who a conversation's messages go to, and under which rules."""

    campaign_id: int
    resident_id: int
    respondent: str
    contact_id: int
    channel: str
    timezone: str | None  # the resident's; quiet hours are in their local time
    quiet_hours: str | None  # the campaign's window; None turns it off
    # The resident as they are now: each answer keeps these, so a later import never rewrites it.
    language: str
    attributes: Mapping[str, Any]
    held: bool = False  # the campaign is paused: messages wait until it resumes
    fold_to_gsm: bool = False  # SMS only, when the campaign asks: plain Latin letters cost 1/2.3 as much
    whatsapp_template: dict[str, Any] | None = None  # how the service may open a WhatsApp conversation

    @classmethod
    def of(
        cls,
        record: CampaignRecord,
        flow: Campaign,
        resident: Resident,
        contact: ContactAddress,
        conversation: Conversation,
    ) -> Delivery:
        assert resident.id is not None and contact.id is not None
        return cls.to_respondent(
            record,
            flow,
            resident_id=resident.id,
            language=resident.language,
            attributes=resident.attributes,
            contact_id=contact.id,
            channel=contact.channel,
            respondent=conversation.respondent,
        )

    @classmethod
    def to_respondent(
        cls,
        record: CampaignRecord,
        flow: Campaign,
        *,
        resident_id: int,
        language: str,
        attributes: Mapping[str, Any],
        contact_id: int,
        channel: str,
        respondent: str,
    ) -> Delivery:
        """As `of`, for a conversation not stored yet (a launch opens a page of them at once)."""
        assert record.id is not None
        timezone = attributes.get("timezone")
        return cls(
            campaign_id=record.id,
            resident_id=resident_id,
            respondent=respondent,
            contact_id=contact_id,
            channel=channel,
            timezone=timezone if isinstance(timezone, str) else None,
            quiet_hours=flow.schedule.quiet_hours,
            held=record.status == "paused",
            fold_to_gsm=channel == "sms" and flow.sms.fold_diacritics,
            whatsapp_template=_whatsapp_template(flow, language) if channel == "whatsapp" else None,
            language=language,
            attributes=dict(attributes),
        )


def _whatsapp_template(flow: Campaign, language: str) -> dict[str, Any] | None:
    if flow.whatsapp is None:
        return None
    language = language if language in flow.languages else flow.default_language
    variables = {name: text[language] for name, text in flow.whatsapp.variables.items()}
    return {"content_sid": flow.whatsapp.content_sid, "variables": variables}


def question_key(campaign_id: int, resident_id: int, question_id: str, attempt: int | str) -> str:
    """One key per resident, campaign, question and re-ask (0, 1, …) or reminder (r1, r2, …):
    a re-ask or a reminder is a new message; a retry of the same message reuses its key."""
    return f"q:{campaign_id}:{resident_id}:{question_id}:{attempt}"


def choice_style(ask: Ask) -> str:
    """How a channel lays out the choices (channels.base.Outbound.choice_style): a scale's labels are
    its values; a multi question takes several answers, typed ("1,3") or tapped one by one."""
    return {"scale": "values", "multi": "multi"}.get(ask.question_type or "", "numbered")


def parse_question_key(key: str) -> tuple[int, str] | None:
    """(campaign id, question id) of a question's outbox key; None for any other message."""
    if not key.startswith("q:"):
        return None
    parts = key.split(":")
    if len(parts) < 5 or not parts[1].isdecimal():
        return None
    return int(parts[1]), ":".join(parts[3:-1])


@dataclass(frozen=True)
class Applied:
    completed: bool
    asked: bool  # a new question (not a re-ask) was queued
    asked_from: datetime | None  # when it may go out (after quiet hours): its answer window starts then


async def apply_effects(
    session: AsyncSession,
    delivery: Delivery,
    effects: Iterable[Effect],
    *,
    inbound_event_id: int | None,
    now: datetime,
    initiated: bool,
    spread: timedelta,
    key_suffix: str = "",
    answers_wanted: bool = True,
) -> Applied:
    """Store what the engine decided. `initiated`: the service speaks first (a first question, a
    reminder), so quiet hours apply; a reply to what the resident just wrote goes out at once.
    `answers_wanted`: False when no webhook subscriber takes the campaign's answers (read in this
    transaction), so an answer's event is not looked for."""
    outbox = OutboxRepository(session)
    responses = ResponseRepository(session)
    completed = asked = False
    asked_from: datetime | None = None
    for effect in effects:
        if isinstance(effect, Ask | Say):
            message = outbound_message(
                delivery, effect, now=now, initiated=initiated, spread=spread, key_suffix=key_suffix
            )
            await outbox.enqueue(message, now=now)
            if is_first_ask(effect):
                asked, asked_from = True, message.not_before
        elif isinstance(effect, Record):
            await responses.record_once(
                campaign_id=delivery.campaign_id,
                question_id=effect.question_id,
                resident_id=delivery.resident_id,
                respondent=delivery.respondent,
                value=effect.value,
                channel=delivery.channel,
                inbound_event_id=inbound_event_id,
                answered_at=now,
                language=delivery.language,
                attributes=delivery.attributes,
                announce=answers_wanted,
            )
        elif isinstance(effect, Complete):
            completed = True
    return Applied(completed=completed, asked=asked, asked_from=asked_from)


def is_first_ask(effect: Effect) -> bool:
    """A new question (not a re-ask, not a reminder): its answer window starts when it goes out."""
    return isinstance(effect, Ask) and effect.attempt == 0 and not effect.reminder


def outbound_message(
    delivery: Delivery, effect: Ask | Say, *, now: datetime, initiated: bool, spread: timedelta, key_suffix: str = ""
) -> NewMessage:
    """The outbox message of a question or a text the engine decided to send."""
    key = message_key(delivery.campaign_id, delivery.resident_id, effect, key_suffix)
    if isinstance(effect, Say):
        return _message(delivery, key, "say", effect.text, [], now, initiated, spread)
    choices = [_choice(choice, picked=choice.key in effect.selected) for choice in effect.choices]
    style = choice_style(effect)
    return _message(delivery, key, "question", effect.text, choices, now, initiated, spread, style, effect.submit_label)


def message_key(campaign_id: int, resident_id: int, effect: Ask | Say, key_suffix: str = "") -> str:
    """The outbox key of a question or a text to one resident."""
    if isinstance(effect, Say):
        return f"say:{campaign_id}:{resident_id}:{effect.key}{key_suffix}"
    attempt = f"r{effect.reminder}" if effect.reminder else str(effect.attempt)
    # A fallback channel asks again as a new message: the attempt gets a suffix ("0via-email").
    return question_key(campaign_id, resident_id, effect.question_id, attempt + key_suffix)


def _choice(choice: Choice, *, picked: bool) -> dict[str, str]:
    """An option as the outbox stores it; "picked" marks one ticked before (see Ask.selected)."""
    return {"key": choice.key, "label": choice.label} | ({"picked": "1"} if picked else {})


def stored_choices(rows: Iterable[Mapping[str, str]]) -> tuple[channels.base.Choice, ...]:
    """The options of an outbox row, as a channel takes them (the inverse of `_choice`)."""
    return tuple(channels.base.Choice(row["key"], row["label"], picked=row.get("picked") == "1") for row in rows)


def _message(
    delivery: Delivery,
    key: str,
    kind: str,
    text: str,
    choices: list[dict[str, str]],
    now: datetime,
    initiated: bool,
    spread: timedelta,
    choice_style: str = "numbered",
    submit_label: str | None = None,
) -> NewMessage:
    if delivery.fold_to_gsm:
        text = fold_to_gsm(text)
        choices = [{**choice, "label": fold_to_gsm(choice["label"])} for choice in choices]
    window = QuietHours.parse(delivery.quiet_hours) if initiated and delivery.quiet_hours else None
    not_before = release_time(now, window, resident_zone(delivery.timezone), key=key, spread=spread)
    # WhatsApp lets the service speak first only with its approved template; replies are free text.
    template = delivery.whatsapp_template if initiated else None
    return NewMessage(
        idempotency_key=key,
        campaign_id=delivery.campaign_id,
        resident_id=delivery.resident_id,
        contact_id=delivery.contact_id,
        kind=kind,
        text=text,
        choices=choices,
        choice_style=choice_style,
        submit_label=submit_label,
        template=template,
        status="held" if delivery.held else "queued",
        not_before=not_before,
        quiet_hours=delivery.quiet_hours if window else None,
        timezone=delivery.timezone if window else None,
    )


def set_answer_timers(conversation: Conversation, flow: Campaign, *, now: datetime, first: bool) -> None:
    """A new question goes out at `now`: its answer window starts; reminders count from the first one."""
    for name, value in answer_timers(flow, now=now, first=first).items():
        setattr(conversation, name, value)


def answer_timers(flow: Campaign, *, now: datetime, first: bool) -> dict[str, Any]:
    """The conversation's columns `set_answer_timers` sets, as values (for a prebuilt UPDATE)."""
    timers: dict[str, Any] = {"asked_at": now, "expires_at": answer_deadline(flow, now)}
    if first:
        timers |= {"reminders_sent": 0, "next_reminder_at": first_reminder(flow, now)}
    return timers


def answer_deadline(flow: Campaign, asked_at: datetime) -> datetime | None:
    return asked_at + flow.answer_within if flow.answer_within else None


def first_reminder(flow: Campaign, asked_at: datetime) -> datetime | None:
    reminders = flow.schedule.reminders
    return asked_at + reminders[0] if reminders else None


async def open_conversation(
    session: AsyncSession,
    record: CampaignRecord,
    flow: Campaign,
    resident: Resident,
    contact: ContactAddress,
    *,
    pseudonym_key: str,
    now: datetime,
    spread: timedelta,
) -> bool:
    """Start asking, or wait while another campaign holds this address (an SMS reply has no thread,
    so one address is in one conversation at a time). False when the resident already has one."""
    assert record.id is not None and resident.id is not None and contact.id is not None
    conversations = ConversationRepository(session)
    busy = await conversations.has_active_on_contact(contact.id)
    step = start(flow, resident.language, now)
    conversation_id = await conversations.start_once(
        campaign_id=record.id,
        resident_id=resident.id,
        contact_id=contact.id,
        respondent=respondent_pseudonym(pseudonym_key, resident.id, record.id),
        state=step.state.model_dump(mode="json"),
        status="waiting" if busy else "active",
        now=now,
    )
    if conversation_id is None:
        return False
    if not busy:
        conversation = await conversations.get(conversation_id)
        await _ask_first(session, conversation, record, flow, resident, contact, now=now, spread=spread)
    return True


async def activate_next_waiting(
    session: AsyncSession,
    contact_id: int,
    definitions: CampaignDefinitions,
    *,
    now: datetime,
    spread: timedelta,
) -> bool:
    """The address is free again: the oldest waiting campaign may now ask."""
    conversations = ConversationRepository(session)
    if await conversations.has_active_on_contact(contact_id):
        return False
    conversation = await conversations.oldest_waiting_on_contact(contact_id)
    if conversation is None:
        return False
    record = await CampaignRepository(session).get(conversation.campaign_id)
    residents = ResidentRepository(session)
    resident = await residents.get(conversation.resident_id)
    contact = await residents.contact(contact_id)
    conversation.status = "active"
    await _ask_first(session, conversation, record, definitions.flow(record), resident, contact, now=now, spread=spread)
    return True


async def _ask_first(
    session: AsyncSession,
    conversation: Conversation,
    record: CampaignRecord,
    flow: Campaign,
    resident: Resident,
    contact: ContactAddress,
    *,
    now: datetime,
    spread: timedelta,
) -> None:
    step = start(flow, resident.language, now)  # the language may have changed while it waited
    conversation.state = step.state.model_dump(mode="json")
    delivery = Delivery.of(record, flow, resident, contact, conversation)
    applied = await apply_effects(
        session, delivery, step.effects, inbound_event_id=None, now=now, initiated=True, spread=spread
    )
    set_answer_timers(conversation, flow, now=applied.asked_from or now, first=True)
    await ConversationRepository(session).save(conversation, now=now)
