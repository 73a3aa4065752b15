"""What reaches a simulated resident: they read every kind of question message (opening, re-ask,
reminder) as the real SMS and Telegram adapters show it, ignore messages that ask nothing, and hear
through the stand-ins exactly what the real adapters sent."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from channels.base import Choice, Outbound, render_plain
from channels.standins.telegram import TelegramStandIn
from channels.standins.twilio import StoredMessage, TwilioStandIn
from channels.telegram import TelegramChannel
from channels.telegram_keyboards import compose
from channels.twilio_sms import TwilioChannel
from flows.campaign import Campaign
from flows.engine import Ask, FlowState, ask_again, remind, start
from flows.languages import LANGUAGES
from outreach.campaigns.conversations import choice_style
from outreach.demo.phone import Received, read_message, sms_received, telegram_received
from outreach.demo.providers import SMS_SENDER
from outreach.inbound import service_texts


def _outbound(ask: Ask, channel: str, address: str) -> Outbound:
    """The outbox message the dispatcher hands a channel for this ask."""
    attempt = f"r{ask.reminder}" if ask.reminder else str(ask.attempt)
    return Outbound(
        key=f"q:1:42:{ask.question_id}:{attempt}",
        channel=channel,
        address=address,
        text=ask.text,
        choices=tuple(Choice(choice.key, choice.label) for choice in ask.choices),
        choice_style=choice_style(ask),
    )


def _asks(flow: Campaign, language: str) -> list[tuple[Ask, bool, bool]]:
    """Every kind of question message: (ask, is a re-ask, is a reminder)."""
    [opening] = start(flow, language, datetime.now(UTC)).effects
    assert isinstance(opening, Ask)
    asks = [(opening, False, False)]
    for question in flow.questions:
        state = FlowState(question_id=question.id, language=language)
        reminder = remind(flow, state, 1)
        assert reminder is not None
        asks += [(ask_again(question, language, 1), True, False), (reminder, False, True)]
    return asks


def _sms(outbound: Outbound) -> Received:
    body = render_plain(outbound)  # what TwilioChannel.body sends (no folding in the example)
    return sms_received(StoredMessage("SM1", outbound.address, "+48500000100", None, body, None, 1))


def _telegram(outbound: Outbound) -> Received:
    text, keyboard = compose(outbound)  # what TelegramChannel.send sends
    message: dict[str, object] = {"message_id": 7, "chat": {"id": 1234567890, "type": "private"}, "text": text}
    if keyboard is not None:
        message["reply_markup"] = keyboard.to_dict()
    received = telegram_received(message)
    assert received is not None
    return received


@pytest.mark.parametrize("language", LANGUAGES)
def test_residents_read_questions_as_each_adapter_shows_them(flow: Campaign, language: str) -> None:
    for ask, reask, reminder in _asks(flow, language):
        expected = [(choice.key, choice.label) for choice in ask.choices]
        sms = _sms(_outbound(ask, "sms", "+48600000001"))
        telegram = _telegram(_outbound(ask, "telegram", "1234567890"))
        assert not sms.buttons and len(telegram.buttons) == len(expected)
        for received in (sms, telegram):
            reading = read_message(flow, language, received)
            assert reading is not None, received.text
            assert (reading.question.id, reading.reask, reading.reminder) == (ask.question_id, reask, reminder)
            assert [(choice.key, choice.label) for choice in reading.choices] == expected
        for button, (key, _) in zip(telegram.buttons, expected, strict=True):
            assert button.data == f"a:1:{ask.question_id}:{key}"  # what a tap sends back


def test_messages_that_ask_nothing_are_not_answered(flow: Campaign) -> None:
    assert flow.outro is not None
    for text in (flow.outro["pl"], service_texts.stopped("pl"), service_texts.help_text("pl", "Miasto Gdańsk")):
        assert read_message(flow, "pl", Received("sms", "+48600000001", text)) is None


async def test_the_stand_ins_tell_the_residents_what_the_real_adapters_sent(
    flow: Campaign, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    [opening] = start(flow, "pl", datetime.now(UTC)).effects
    assert isinstance(opening, Ask)
    heard_sms: list[StoredMessage] = []
    heard_telegram: list[dict[str, object]] = []
    async with TwilioStandIn() as twilio, TelegramStandIn("7000000001:demo-test-token") as telegram:
        twilio.subscribe(heard_sms.append)
        telegram.subscribe(heard_telegram.append)
        sms = TwilioChannel(
            name="sms",
            account_sid=twilio.account_sid,
            auth_token=twilio.auth_token,
            api_base_url=twilio.base_url,
            public_url="http://127.0.0.1:9",
            sender=SMS_SENDER,
        )
        bot = TelegramChannel(token=telegram.token, api_base_url=telegram.base_url, webhook_secret=None)
        await sms.start()
        await bot.start()
        try:
            sms_sent = await sms.send(_outbound(opening, "sms", "+48600000001"))
            telegram_sent = await bot.send(_outbound(opening, "telegram", "1234567890"))
        finally:
            await sms.close()
            await bot.close()
    [message] = heard_sms
    assert message.sid == sms_sent.provider_id and message.to == "+48600000001"
    [update] = heard_telegram
    assert str(update["message_id"]) == telegram_sent.provider_id
    received = [sms_received(message), telegram_received(update)]
    assert received[1] is not None and received[1].address == "1234567890" and received[1].buttons
    for shown in received:
        assert shown is not None
        reading = read_message(flow, "pl", shown)
        assert reading is not None and reading.question.id == opening.question_id
