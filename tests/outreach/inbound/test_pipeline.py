"""The inbound pipeline against a real database: dedupe, keywords, engine, one transaction."""

from __future__ import annotations

import itertools

import pytest

from flows.age_bands import DEFAULT_AGE_BANDS
from outreach.bootstrap import Services
from outreach.campaigns.resident_rows import ResidentRow, parse_row
from outreach.campaigns.residents_import import store_rows
from outreach.inbound.pipeline import Outcome
from tests.factories import add_resident
from tests.outreach.helpers import inbound_outcomes, launch, outbox, reply, responses

PHONE = "+48600100200"


async def test_launch_queues_the_intro_with_the_first_question(services: Services) -> None:
    await add_resident(services, phone=PHONE)
    await add_resident(services, email="ola@example.org", language="en")
    campaign_id = await launch(services)
    queued = await outbox(services)
    assert [(m.idempotency_key, m.kind, m.status) for m in queued] == [
        (f"q:{campaign_id}:1:uses_tram:0", "question", "queued"),
        (f"q:{campaign_id}:2:uses_tram:0", "question", "queued"),
    ]
    assert queued[0].text.startswith("Miasto Gdańsk pyta o tramwaj.")
    assert queued[1].text.startswith("The City of Gdańsk asks about the tram.")
    assert [c["key"] for c in queued[0].choices] == ["yes", "no"]


async def test_launching_twice_asks_nobody_twice(services: Services) -> None:
    await add_resident(services, phone=PHONE)
    await launch(services)
    from outreach.campaigns.commands import launch_campaign

    again = await launch_campaign(services.sessions, "1", clock=services.clock)
    assert again.conversations_started == 0
    assert len(await outbox(services)) == 1


async def test_answers_move_the_resident_through_the_questions(services: Services) -> None:
    await add_resident(services, phone=PHONE)
    campaign_id = await launch(services)
    assert await reply(services, PHONE, "Tak, codziennie") is Outcome.ANSWERED
    assert await reply(services, PHONE, "2") is Outcome.ANSWERED
    assert await responses(services) == [("uses_tram", "yes"), ("frequency", "weekly")]
    keys = [m.idempotency_key for m in await outbox(services)]
    assert keys == [
        f"q:{campaign_id}:1:uses_tram:0",
        f"q:{campaign_id}:1:frequency:0",
        f"say:{campaign_id}:1:outro",
    ]
    assert await reply(services, PHONE, "1") is Outcome.NO_CONVERSATION  # completed: nothing more


async def test_a_reply_delivered_twice_is_stored_once(services: Services) -> None:
    await add_resident(services, phone=PHONE)
    await launch(services)
    assert await reply(services, PHONE, "tak", provider_id="SM1") is Outcome.ANSWERED
    assert await reply(services, PHONE, "tak", provider_id="SM1") is Outcome.DUPLICATE
    assert await responses(services) == [("uses_tram", "yes")]
    assert len(await outbox(services)) == 2
    assert await inbound_outcomes(services) == ["answered"]


async def test_an_unclear_reply_is_asked_again_then_recorded_unanswered(services: Services) -> None:
    await add_resident(services, phone=PHONE)
    campaign_id = await launch(services)
    await reply(services, PHONE, "może kiedyś")
    await reply(services, PHONE, "hmm")
    keys = [m.idempotency_key for m in await outbox(services)]
    assert keys == [
        f"q:{campaign_id}:1:uses_tram:0",
        f"q:{campaign_id}:1:uses_tram:1",  # the re-ask is a new message
        f"q:{campaign_id}:1:frequency:0",  # out of re-asks: move on
    ]
    assert await responses(services) == [("uses_tram", None)]


async def test_stop_confirms_once_then_nothing(services: Services) -> None:
    await add_resident(services, phone=PHONE, email="jan@example.org")
    await launch(services)
    assert await reply(services, PHONE, "STOP") is Outcome.STOPPED
    assert await reply(services, PHONE, "stop") is Outcome.OPTED_OUT
    assert await reply(services, PHONE, "tak") is Outcome.OPTED_OUT
    assert await reply(services, PHONE, "pomoc") is Outcome.OPTED_OUT
    messages = await outbox(services)
    assert [(m.kind, m.status) for m in messages] == [("question", "cancelled"), ("system", "queued")]
    assert "START" in messages[1].text
    assert await responses(services) == []


async def test_stop_inside_a_longer_reply_is_an_answer(services: Services) -> None:
    await add_resident(services, phone=PHONE)
    await launch(services)
    assert await reply(services, PHONE, "nie, stop") is Outcome.ANSWERED
    assert await responses(services) == [("uses_tram", "no")]


async def test_start_opts_back_in_and_help_explains(services: Services) -> None:
    await add_resident(services, phone=PHONE, language="en")
    await launch(services)
    await reply(services, PHONE, "STOP")
    assert await reply(services, PHONE, "START") is Outcome.STARTED
    assert await reply(services, PHONE, "HELP") is Outcome.HELP
    texts = [m.text for m in await outbox(services) if m.kind == "system"]
    assert texts[0].startswith("You will get no more messages")
    assert texts[1].startswith("Welcome back")
    assert "Miasto Gdańsk asks residents" in texts[2] and "STOP" in texts[2]


async def test_language_keyword_switches_the_replies(services: Services) -> None:
    await add_resident(services, phone=PHONE, language="pl")
    assert await reply(services, PHONE, "LANG EN") is Outcome.LANGUAGE
    assert await reply(services, PHONE, "help") is Outcome.HELP
    texts = [m.text for m in await outbox(services)]
    assert texts[0] == "We will write in English."
    assert texts[1].startswith("Miasto Gdańsk asks residents")


async def test_strangers_get_no_answer(services: Services) -> None:
    await add_resident(services, phone=PHONE)
    await launch(services)
    assert await reply(services, "+48600999999", "STOP") is Outcome.UNKNOWN_SENDER
    assert [m.kind for m in await outbox(services)] == ["question"]
    assert await inbound_outcomes(services) == ["unknown_sender"]


_handled = itertools.count(1)


async def handle(services: Services, **fields: object) -> Outcome:
    """An inbound built like a channel would: taps, commands and provider opt-outs."""
    from channels.base import Inbound

    defaults: dict[str, object] = {
        "channel": "sms",
        "provider_id": f"X{next(_handled)}",
        "address": PHONE,
        "text": "",
        "received_at": services.clock(),
    }
    return await services.pipeline.handle(Inbound(**{**defaults, **fields}))  # type: ignore[arg-type]


async def test_a_stop_the_provider_already_confirmed_is_recorded_without_a_second_confirmation(
    services: Services,
) -> None:
    await add_resident(services, phone=PHONE)
    await launch(services)
    assert await handle(services, provider_id="SM1", text="STOP", opted_out_by_provider=True) is (
        Outcome.STOPPED_BY_PROVIDER
    )
    assert await handle(services, provider_id="SM2", text="STOP", opted_out_by_provider=True) is Outcome.OPTED_OUT
    assert [(m.kind, m.status) for m in await outbox(services)] == [("question", "cancelled")]  # no reply of ours


async def test_a_tap_answers_the_current_question_and_a_stale_tap_counts_for_nothing(services: Services) -> None:
    from channels.base import ButtonTap

    await add_resident(services, phone=PHONE)
    await launch(services)
    tap = ButtonTap(campaign_id=1, question_id="uses_tram", key="yes", callback_id="cb1")
    assert await handle(services, provider_id="T1", text="yes", tap=tap) is Outcome.ANSWERED
    again = ButtonTap(campaign_id=1, question_id="uses_tram", key="no", callback_id="cb2")
    assert await handle(services, provider_id="T2", text="no", tap=again) is Outcome.STALE_TAP
    other_campaign = ButtonTap(campaign_id=9, question_id="frequency", key="daily", callback_id="cb3")
    assert await handle(services, provider_id="T3", text="daily", tap=other_campaign) is Outcome.STALE_TAP
    stop_button = ButtonTap(campaign_id=1, question_id="frequency", key="weekly", callback_id="cb4")
    assert await handle(services, provider_id="T4", text="STOP", tap=stop_button) is Outcome.ANSWERED
    assert await responses(services) == [("uses_tram", "yes"), ("frequency", "weekly")]


@pytest.mark.parametrize(
    ("command", "argument", "outcome", "reply_starts"),
    [
        ("stop", None, Outcome.STOPPED, "Nie napiszemy już do Ciebie"),
        ("help", None, Outcome.HELP, "Miasto Gdańsk pyta mieszkańców"),
        ("language", None, Outcome.LANGUAGE, "Wybierz język"),
        ("language", "EN", Outcome.LANGUAGE, "We will write in English."),
    ],
)
async def test_channel_commands_work_like_keywords(
    services: Services, command: str, argument: str | None, outcome: Outcome, reply_starts: str
) -> None:
    await add_resident(services, phone=PHONE)
    assert await handle(services, text=f"/{command}", command=command, argument=argument) is outcome
    [message] = await outbox(services)
    assert message.text.startswith(reply_starts)


async def test_sms_folds_polish_letters_when_the_campaign_asks(services: Services) -> None:
    from tests.outreach.helpers import CAMPAIGN_YAML

    await add_resident(services, phone=PHONE)
    await add_resident(services, email="ola@example.org")
    await launch(services, CAMPAIGN_YAML + "sms: {fold_diacritics: true}\n")
    by_sms, by_email = await outbox(services)
    assert by_sms.text.startswith("Miasto Gdansk pyta o tramwaj.") and "jezdzisz" in by_sms.text
    assert by_email.text.startswith("Miasto Gdańsk pyta o tramwaj.")  # other channels keep every letter
    await reply(services, PHONE, "tak")
    follow_up = (await outbox(services))[-1]
    assert [choice["label"] for choice in follow_up.choices] == ["codziennie", "co tydzien"]


@pytest.mark.parametrize("sender", ["anna.nowak@x.pl", "ANNA.NOWAK@X.PL"])
async def test_a_resident_imported_with_a_capital_in_their_email_is_found_when_they_write(
    services: Services, sender: str
) -> None:
    """Imported as `Anna.Nowak@X.pl`: a mail from the address in another case is hers, not a stranger's
    (outreach.addresses.canonical_address, used by the import and by the pipeline)."""
    taken = parse_row(
        2,
        {"email": "Anna.Nowak@X.pl", "consent_source": "register", "consent_at": "2026-01-10T12:00:00+01:00"},
        region="PL",
        age_bands=DEFAULT_AGE_BANDS,
    )
    assert isinstance(taken, ResidentRow)
    assert (await store_rows(services.sessions, [taken], clock=services.clock, label="register.csv")).created == 1
    assert await reply(services, sender, "STOP", channel="email") is Outcome.STOPPED
