"""`outreach demo`: the simulated residents behave as documented and read what the real SMS and
Telegram adapters send, and the whole demo, run as a real command through the provider stand-ins,
leaves a consistent consultation behind it without printing any address or credential."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from channels.base import Choice, Outbound, render_plain
from channels.standins.telegram import TelegramStandIn
from channels.standins.twilio import StoredMessage, TwilioStandIn
from channels.telegram import TelegramChannel, compose
from channels.twilio_sms import TwilioChannel
from flows.campaign import Campaign
from flows.engine import Ask, FlowState, ask_again, remind, start
from flows.languages import LANGUAGES
from flows.matching import match_answer
from outreach.campaigns.conversations import choice_style
from outreach.demo import run as demo
from outreach.inbound import service_texts
from outreach.inbound.keywords import detect_keyword

REPO = Path(__file__).resolve().parents[3]
SHARED_DISTRICTS = REPO.parent / "shared" / "data" / "gdansk_districts.csv"
PACKAGED = REPO / "outreach" / "data"


@pytest.fixture(scope="module")
def flow() -> Campaign:
    return demo.load_example()


def test_packaged_copies_match_their_sources() -> None:
    assert (PACKAGED / demo.EXAMPLE).read_bytes() == (REPO / "examples" / demo.EXAMPLE).read_bytes()
    if not SHARED_DISTRICTS.exists():
        pytest.skip("../shared/data is not next to this checkout")
    assert (PACKAGED / demo.DISTRICTS_FILE).read_bytes() == SHARED_DISTRICTS.read_bytes()


def test_without_a_checkout_the_packaged_example_serves(
    flow: Campaign, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo, "EXAMPLES_DIR", tmp_path / "no-examples-here")
    assert demo.load_example() == flow


def test_districts_cover_the_city_and_the_audience(flow: Campaign) -> None:
    districts = demo.load_districts()
    assert len(districts) == 35
    assert sum(d.population for d in districts) == 490_301
    assert {d.name for d in demo.audience_districts(flow, districts)} == set(flow.audience.where["district"])


def _choices(flow: Campaign, question_id: str, language: str) -> list[Choice]:
    question = flow.question(question_id)
    if question.type == "yesno":
        return [Choice("yes", "tak"), Choice("no", "nie")]
    return [Choice(option.key, option.text[language]) for option in question.options]


def test_every_answer_variant_means_the_option_it_is_meant_for(flow: Campaign) -> None:
    for question in flow.questions:
        for language in LANGUAGES:
            for number, choice in enumerate(_choices(flow, question.id, language), start=1):
                for text in demo.answer_variants(language, question.type, number, choice):
                    assert detect_keyword(text) is None, text
                    assert match_answer(question, language, text) == choice.key, (question.id, language, text)


def test_every_mistype_fits_nothing(flow: Campaign) -> None:
    for question in flow.questions:
        for language in LANGUAGES:
            for text in demo.mistypes(language, question.type):
                assert detect_keyword(text) is None, text
                assert match_answer(question, language, text) is None, (question.id, language, text)


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


def _sms(outbound: Outbound) -> demo.Received:
    body = render_plain(outbound)  # what TwilioChannel.body sends (no folding in the example)
    return demo.sms_received(StoredMessage("SM1", outbound.address, "+48500000100", None, body, None, 1))


def _telegram(outbound: Outbound) -> demo.Received:
    text, keyboard = compose(outbound)  # what TelegramChannel.send sends
    message: dict[str, object] = {"message_id": 7, "chat": {"id": 1234567890, "type": "private"}, "text": text}
    if keyboard is not None:
        message["reply_markup"] = keyboard.to_dict()
    received = demo.telegram_received(message)
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
            reading = demo.read_message(flow, language, received)
            assert reading is not None, received.text
            assert (reading.question.id, reading.reask, reading.reminder) == (ask.question_id, reask, reminder)
            assert [(choice.key, choice.label) for choice in reading.choices] == expected
        for button, (key, _) in zip(telegram.buttons, expected, strict=True):
            assert button.data == f"a:1:{ask.question_id}:{key}"  # what a tap sends back


def test_messages_that_ask_nothing_are_not_answered(flow: Campaign) -> None:
    assert flow.outro is not None
    for text in (flow.outro["pl"], service_texts.stopped("pl"), service_texts.help_text("pl", "Miasto Gdańsk")):
        assert demo.read_message(flow, "pl", demo.Received("sms", "+48600000001", text)) is None


def test_a_reply_means_the_option_it_names(flow: Campaign) -> None:
    districts = demo.load_districts()
    people = demo.simulate_residents(300, seed=11, districts=districts, audience=districts)
    answering = [p for p in people if p.persona is demo.Persona.ANSWERS]
    for question in flow.questions:
        for person in answering:
            choices = _choices(flow, question.id, person.language)
            for numbered in (True, False):
                reply = demo.reply_to(person, question, 0, choices, first=False, numbered=numbered)
                assert reply is not None and reply.choice is not None
                assert match_answer(question, person.language, reply.text) == choices[reply.choice].key
                if not numbered:  # Telegram shows buttons, not numbers: nobody types one
                    assert not reply.text.removesuffix(")").isdecimal(), reply.text


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
            sender=demo.SMS_SENDER,
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
    received = [demo.sms_received(message), demo.telegram_received(update)]
    assert received[1] is not None and received[1].address == "1234567890" and received[1].buttons
    for shown in received:
        assert shown is not None
        reading = demo.read_message(flow, "pl", shown)
        assert reading is not None and reading.question.id == opening.question_id


def test_residents_are_reproducible_and_cast_as_documented(flow: Campaign) -> None:
    districts = demo.load_districts()
    audience = demo.audience_districts(flow, districts)
    people = demo.simulate_residents(300, seed=5, districts=districts, audience=audience)
    again = demo.simulate_residents(300, seed=5, districts=districts, audience=audience)
    assert [(p.phone, p.email, p.persona, p.district) for p in people] == [
        (p.phone, p.email, p.persona, p.district) for p in again
    ]
    addresses = [address for person in people for address in person.addresses]
    assert len(addresses) == len(set(addresses))
    assert all(person.addresses for person in people)
    # Email is off in the demo: everyone can be asked by SMS or on Telegram.
    assert all(person.phone or person.telegram for person in people)
    assert any(person.email for person in people) and any(person.telegram for person in people)
    names = {d.name for d in audience}
    asked = [p for p in people if p.district in names]
    assert len(asked) >= 250
    personas = Counter(p.persona for p in asked)
    assert personas[demo.Persona.STOPS] == 1
    assert Counter(p.persona for p in people)[demo.Persona.STOPS] == 1
    assert 0.30 <= personas[demo.Persona.SILENT] / len(asked) <= 0.40
    assert 0.05 <= personas[demo.Persona.LATE] / len(asked) <= 0.15
    assert personas[demo.Persona.MISTYPES] > 0 and personas[demo.Persona.ANSWERS] > 0
    assert {p.language for p in people} == set(LANGUAGES)
    assert all(p.phone.startswith("+486000") for p in people if p.phone)


def _run_demo(tmp_path: Path, database: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("OUTREACH_")}
    command = [sys.executable, "-m", "outreach.cli", "demo", "--residents", "60"]
    return subprocess.run(
        [*command, "--database", str(database), "--seed", "3"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def _typed_texts(flow: Campaign, language: str) -> set[str]:
    """Everything a simulated resident of this language may type."""
    typed = {"STOP"}
    for question in flow.questions:
        typed.update(demo.mistypes(language, question.type))
        for number, choice in enumerate(_choices(flow, question.id, language), start=1):
            typed.update(demo.answer_variants(language, question.type, number, choice))
    return typed


def _tapped(flow: Campaign, language: str, text: str) -> bool:
    """A Telegram reply whose text is an option key no resident of its language types: a button tap
    (the channel reads a tap as the key in its callback data)."""
    keys = {choice.key for question in flow.questions for choice in _choices(flow, question.id, language)}
    return text in keys and text not in _typed_texts(flow, language)


@pytest.mark.slow
def test_the_demo_runs_a_whole_consultation_by_itself(flow: Campaign, tmp_path: Path) -> None:
    database = tmp_path / "demo.db"
    database.write_text("an older demo file, replaced")
    run = _run_demo(tmp_path, database)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    for expected in ("response rate", "visits_park", "priority", "why_not", "outreach results", "button taps"):
        assert expected in run.stdout, run.stdout
    # The SDKs' HTTP logs are silenced: no Bot API URL (it holds the token), no Twilio request.
    for secret_bearing in ("/bot", "/Accounts/", "Authorization", "BEGIN Twilio API Request"):
        assert secret_bearing not in output, output

    with contextlib.closing(sqlite3.connect(database)) as db:
        addresses = [address for (address,) in db.execute("SELECT address FROM contact_addresses")]
        assert len(addresses) >= 60
        leaked = [a for a in addresses if a in output or a.lstrip("+") in output]
        assert not leaked, "an address was printed"

        stops = db.execute("SELECT id, contact_id, received_at FROM inbound_events WHERE outcome = 'stopped'")
        [(stop_event, stop_contact, stopped_at)] = stops.fetchall()
        confirmations = db.execute(
            "SELECT status FROM outbox WHERE kind = 'system' AND idempotency_key = ?",
            (f"reply:{stop_event}",),
        ).fetchall()
        assert confirmations == [("sent",)]
        [(stopper,)] = db.execute("SELECT resident_id FROM contact_addresses WHERE id = ?", (stop_contact,))
        late_answers = db.execute(
            "SELECT count(*) FROM responses WHERE resident_id = ? AND answered_at >= ?", (stopper, stopped_at)
        ).fetchone()
        late_messages = db.execute(
            "SELECT count(*) FROM outbox WHERE resident_id = ? AND kind != 'system' AND created_at >= ?",
            (stopper, stopped_at),
        ).fetchone()
        assert (late_answers, late_messages) == ((0,), (0,))

        [(contacted,)] = db.execute("SELECT count(*) FROM conversations")
        [(answered,)] = db.execute(
            "SELECT count(DISTINCT resident_id) FROM responses WHERE value IS NOT NULL"
        ).fetchall()
        assert 0 < answered < contacted

        doubles = db.execute(
            "SELECT campaign_id, resident_id, question_id FROM responses GROUP BY 1, 2, 3 HAVING count(*) > 1"
        ).fetchall()
        assert doubles == []

        [(reasks,)] = db.execute(
            "SELECT count(*) FROM outbox WHERE idempotency_key LIKE 'q:%:1' AND status = 'sent'"
        ).fetchall()
        assert reasks >= 1

        unfinished = db.execute(
            "SELECT count(*) FROM outbox WHERE status IN ('queued', 'claimed', 'sending')"
        ).fetchone()
        assert unfinished == (0,)

        # The accelerated clock shows the lifecycle: a night held back, reminders, answer windows closing.
        [(reminders,)] = db.execute("SELECT count(*) FROM outbox WHERE idempotency_key LIKE 'q:%:r1'")
        [(expired,)] = db.execute("SELECT count(*) FROM conversations WHERE status = 'expired'")
        assert reminders >= 1 and expired >= 1
        service_initiated = db.execute(
            "SELECT sent_at FROM outbox WHERE status = 'sent'"
            " AND (idempotency_key LIKE 'q:%:visits_park:0' OR idempotency_key LIKE 'q:%:r_')"
        ).fetchall()
        warsaw = ZoneInfo("Europe/Warsaw")
        local_hours = {
            datetime.fromisoformat(sent).replace(tzinfo=UTC).astimezone(warsaw).hour for (sent,) in service_initiated
        }
        assert service_initiated and local_hours.isdisjoint({21, 22, 23, 0, 1, 2, 3, 4, 5, 6, 7})

        # The real adapters sent through both provider stand-ins: Twilio message SIDs for SMS,
        # Telegram message ids for the bot's messages.
        sent = db.execute(
            "SELECT c.channel, o.provider_id FROM outbox o JOIN contact_addresses c ON c.id = o.contact_id"
            " WHERE o.status = 'sent'"
        ).fetchall()
        assert {channel for channel, _ in sent} == {"sms", "telegram"}
        assert all(sid.startswith("SM") and len(sid) == 34 for channel, sid in sent if channel == "sms")
        assert all(message_id.isdecimal() for channel, message_id in sent if channel == "telegram")

        # Replies came back as the providers deliver them: Twilio's signed inbound SMS (its own SIDs)
        # and Telegram updates ("u" + update_id), some of them taps on the question's buttons.
        inbound = db.execute(
            "SELECT e.channel, e.provider_id, e.text, r.language FROM inbound_events e"
            " JOIN contact_addresses c ON c.id = e.contact_id JOIN residents r ON r.id = c.resident_id"
        ).fetchall()
        assert {channel for channel, *_ in inbound} == {"sms", "telegram"}
        assert all(sid.startswith("SM") for channel, sid, *_ in inbound if channel == "sms")
        assert all(update.startswith("u") for channel, update, *_ in inbound if channel == "telegram")
        taps = [
            text for channel, _, text, language in inbound if channel == "telegram" and _tapped(flow, language, text)
        ]
        typed = [
            text
            for channel, _, text, language in inbound
            if channel == "telegram" and not _tapped(flow, language, text)
        ]
        assert taps and typed


def test_provider_logs_are_silenced_while_the_demo_runs() -> None:
    names = ("twilio.http_client", "twilio.async_http_client", "httpx", "telegram.Bot", "telegram.ext")
    before = {name: logging.getLogger(name).getEffectiveLevel() for name in names}
    with demo.provider_logs_silenced():
        for name in names:
            assert not logging.getLogger(name).isEnabledFor(logging.CRITICAL), name
    assert {name: logging.getLogger(name).getEffectiveLevel() for name in names} == before
