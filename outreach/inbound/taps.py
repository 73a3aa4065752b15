"""Telegram taps, after the pipeline committed them: the button's spinner stopped, the chosen answer
shown under the question, a multi question's ticks redrawn, an old question's tap answered politely."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import ButtonTap, Inbound, Outbound
from channels.telegram import TelegramChannel
from flows.answer_labels import answer_rows
from flows.engine import FlowState
from flows.languages import supported_or_default
from outreach.campaigns.conversations import stored_choices
from outreach.inbound import service_texts
from outreach.inbound.enrolment import ENROLMENT_CAMPAIGN, Choices
from outreach.inbound.enrolment import prompt as enrolment_prompt
from outreach.inbound.pipeline import Outcome
from outreach.inbound.services import InboundServices
from storage.campaigns import CampaignRepository, ConversationRepository
from storage.db import read_session
from storage.outbox import OutboxRepository
from storage.residents import ResidentRepository
from storage.responses import ResponseRepository

# Taps that were taken as an answer (to a campaign question or a step of self-enrolment).
COUNTED_TAPS = (Outcome.ANSWERED, Outcome.ENROLLING, Outcome.ENROLLED, Outcome.DECLINED)


async def acknowledge_tap(
    services: InboundServices, channel: TelegramChannel, inbound: Inbound, outcome: Outcome
) -> None:
    """After the commit: stop the button's spinner; on an answer, show the choice under the question
    and take the keyboard off; on a multi question's toggle, redraw its ticks; on an old or closed
    question, say so politely."""
    tap = inbound.tap
    assert tap is not None
    language = supported_or_default(inbound.language_hint)
    if outcome in PICK_TAPS:
        await acknowledge_pick(services, channel, inbound, outcome, language)
        return
    if outcome not in COUNTED_TAPS:
        notice = service_texts.tap_not_counted(language) if outcome is not Outcome.DUPLICATE else "✓"
        await channel.acknowledge_tap(tap, chat_id=inbound.address, notice=notice, chosen_label=None)
        return
    async with read_session(services.sessions) as session:
        contact = await ResidentRepository(session).contact_by_address(inbound.channel, inbound.address)
        label = sent = None
        if contact is not None and contact.id is not None:
            label = await tapped_label(session, services, tap, language, resident_id=contact.resident_id)
            sent = await OutboxRepository(session).sent_on_address(contact.id, tap.message_id)
    question_text = sent.text if sent else None
    await channel.acknowledge_tap(
        tap, chat_id=inbound.address, notice="✓", chosen_label=label, question_text=question_text
    )


# Taps on a multi question's toggles and "done" that recorded no answer.
PICK_TAPS = (Outcome.PICKED, Outcome.TOO_MANY_PICKED, Outcome.NOTHING_PICKED)


async def acknowledge_pick(
    services: InboundServices, channel: TelegramChannel, inbound: Inbound, outcome: Outcome, language: str
) -> None:
    """A toggle ticks or unticks its option (the keyboard is redrawn from the stored picks, the
    truth after any number of taps); a refused toggle or an empty "done" says why."""
    tap = inbound.tap
    assert tap is not None
    async with read_session(services.sessions) as session:
        contact = await ResidentRepository(session).contact_by_address(inbound.channel, inbound.address)
        if contact is None or contact.id is None:
            return
        conversation = await ConversationRepository(session).active_for_contact(contact.id)
        sent = await OutboxRepository(session).sent_on_address(contact.id, tap.message_id)
        record = await CampaignRepository(session).get(tap.campaign_id)
    question = services.definitions.flow(record).question(tap.question_id)
    if outcome is not Outcome.PICKED or conversation is None or sent is None:
        notice = {
            Outcome.TOO_MANY_PICKED: service_texts.too_many_picked(
                language, question.max_choices or len(question.options)
            ),
            Outcome.NOTHING_PICKED: service_texts.nothing_picked(language),
        }.get(outcome, "✓")  # picked, but the conversation or the message is gone since: nothing to redraw
        await channel.acknowledge_tap(tap, chat_id=inbound.address, notice=notice, chosen_label=None)
        return
    selected = frozenset(FlowState.model_validate(conversation.state).selected)
    number = int(tap.key)  # the toggle's option number, checked against the question by the engine
    option = sent.choices[number - 1] if number <= len(sent.choices) else {"key": "", "label": ""}
    notice = f"{'☑' if option['key'] in selected else '☐'} {option['label']}".strip()
    outbound = Outbound(
        key=sent.idempotency_key,
        channel=inbound.channel,
        address=inbound.address,
        text=sent.text,
        choices=stored_choices(sent.choices),
        choice_style=sent.choice_style,
        submit_label=sent.submit_label,
    )
    await channel.show_selection(tap, chat_id=inbound.address, notice=notice, outbound=outbound, selected=selected)


async def tapped_label(
    session: AsyncSession, services: InboundServices, tap: ButtonTap, language: str, *, resident_id: int
) -> str | None:
    if tap.campaign_id == ENROLMENT_CAMPAIGN:
        offered = Choices(services.districts, services.settings.age_bands)
        choices = enrolment_prompt(tap.question_id, language, offered).choices
        return next((label for key, label in choices if key == tap.key), None)
    record = await CampaignRepository(session).get(tap.campaign_id)
    flow = services.definitions.flow(record)
    try:
        rows = answer_rows(
            flow.question(tap.question_id), language if language in flow.languages else flow.default_language
        )
    except KeyError:
        return None
    if tap.action == "submit":  # the options picked, as stored
        value = await ResponseRepository(session).value_of(
            campaign_id=tap.campaign_id, resident_id=resident_id, question_id=tap.question_id
        )
        picked = value if isinstance(value, list) else []
        return ", ".join(label for key, label in rows if key in picked) or None
    if tap.key.isdecimal() and not any(key == tap.key for key, _ in rows) and 0 < int(tap.key) <= len(rows):
        return rows[int(tap.key) - 1][1]  # the index form of callback data
    return next((label for key, label in rows if key == tap.key), None)
