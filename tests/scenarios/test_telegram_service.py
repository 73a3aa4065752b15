"""The service with Telegram configured, end to end over real sockets: questions with one-tap
buttons through the real python-telegram-bot to the Bot API stand-in; updates posted to our webhook
(or long-polled) exactly as Telegram sends them."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlmodel import col

from channels.standins.telegram import BLOCKED, NEVER_STARTED, TelegramStandIn
from outreach.bootstrap import Services
from storage.tables import ConsentRecord, ContactAddress, Conversation, Resident
from tests.conftest import ManualClock
from tests.factories import add_resident
from tests.outreach.helpers import inbound_outcomes, launch, outbox, responses
from tests.providers import TELEGRAM_BOT_TOKEN as TOKEN
from tests.providers import TELEGRAM_WEBHOOK_SECRET as SECRET
from tests.world import AppClient, open_world

CHAT = 424242


@dataclass
class TelegramWorld:
    services: Services
    standin: TelegramStandIn
    client: AppClient
    webhook: str

    async def post(self, update: dict[str, object], secret: str | None = SECRET) -> int:
        return await self.standin.post_update(self.webhook, update, secret)


async def _world(
    database_url: str, clock: ManualClock, *, mode: str = "webhook", background: bool = False
) -> AsyncIterator[TelegramWorld]:
    # Telegram's one message a second per chat is the dispatcher's to keep (its own tests pace it); here it
    # would only make a chat's enrolment replies wait in real time.
    async with open_world(
        database_url,
        clock,
        telegram=True,
        background=background,
        telegram_mode=mode,
        dispatcher_poll_seconds=0.05,
        rate_telegram_per_chat_per_second=1000.0,
    ) as world:
        yield TelegramWorld(world.services, world.telegram, world.client, world.url("/webhooks/telegram"))


@pytest.fixture
async def world(database_url: str, clock: ManualClock) -> AsyncIterator[TelegramWorld]:
    async for made in _world(database_url, clock):
        yield made


async def asked(world: TelegramWorld) -> dict[str, object]:
    """Launch the tram campaign to one Telegram resident and send the first question."""
    await add_resident(world.services, telegram=str(CHAT))
    await launch(world.services, TELEGRAM_CAMPAIGN)
    assert await world.services.dispatcher.drain() == 1
    [call] = world.standin.calls_to("sendMessage")
    return call.params


TELEGRAM_CAMPAIGN = """
name: Tramwaj
languages: [pl]
channels: [telegram]
questions:
  - {id: uses_tram, type: yesno, text: {pl: "Czy jeździsz tramwajem?"}, next: {no: end}}
  - id: frequency
    type: choice
    text: {pl: "Jak często?"}
    options:
      - {key: daily, text: {pl: codziennie}}
      - {key: weekly, text: {pl: co tydzień}}
"""


async def test_a_question_carries_one_tap_buttons(world: TelegramWorld) -> None:
    params = await asked(world)
    assert params["chat_id"] == CHAT and params["text"] == "Czy jeździsz tramwajem?"
    keyboard = params["reply_markup"]["inline_keyboard"]  # type: ignore[index]
    assert [[(b["text"], b["callback_data"]) for b in row] for row in keyboard] == [
        [("tak", "a:1:uses_tram:yes")],
        [("nie", "a:1:uses_tram:no")],
    ]


async def test_a_tap_is_answered_acknowledged_and_shown(world: TelegramWorld) -> None:
    await asked(world)
    [sent] = world.standin.messages(CHAT)
    tap = world.standin.callback_update(CHAT, "a:1:uses_tram:yes", sent["message_id"])
    assert await world.post(tap) == 200
    assert await responses(world.services) == [("uses_tram", "yes")]
    [ack] = world.standin.calls_to("answerCallbackQuery")
    assert ack.params["text"] == "✓"
    edits = world.standin.calls_to("editMessageText") + world.standin.calls_to("editMessageReplyMarkup")
    assert edits and any("✓ tak" in str(edit.params.get("text", "")) for edit in edits)

    # The same (old) button tapped again is acknowledged politely and not counted.
    again = world.standin.callback_update(CHAT, "a:1:uses_tram:no", sent["message_id"])
    assert await world.post(again) == 200
    assert await responses(world.services) == [("uses_tram", "yes")]
    notice = world.standin.calls_to("answerCallbackQuery")[-1].params["text"]
    assert notice.startswith("To pytanie jest już zamknięte")


PARK_CAMPAIGN = """
name: Park
languages: [pl]
channels: [telegram]
questions:
  - id: needs
    type: multi
    max_choices: 2
    text: {pl: "Czego brakuje w parku?"}
    options:
      - {key: benches, text: {pl: ławek}}
      - {key: lights, text: {pl: oświetlenia}}
      - {key: toilets, text: {pl: toalet}}
  - {id: again, type: yesno, text: {pl: "Czy przyjdziesz znowu?"}}
"""


def toggles(ticked: set[int]) -> list[list[dict[str, str]]]:
    labels = ["ławek", "oświetlenia", "toalet"]
    rows = [
        [{"text": f"{'☑' if n in ticked else '☐'} {n}) {label}", "callback_data": f"t:1:needs:{n}"}]
        for n, label in enumerate(labels, start=1)
    ]
    return [*rows, [{"text": "✓ Gotowe", "callback_data": "d:1:needs:ok"}]]


async def tap(world: TelegramWorld, data: str, message_id: int) -> tuple[str, list[list[dict[str, str]]] | None]:
    """Post a tap; what the resident then sees: the notice, and the keyboard if it was redrawn."""
    redraws = len(world.standin.calls_to("editMessageReplyMarkup"))
    assert await world.post(world.standin.callback_update(CHAT, data, message_id)) == 200
    notice = world.standin.calls_to("answerCallbackQuery")[-1].params["text"]
    redrawn = world.standin.calls_to("editMessageReplyMarkup")[redraws:]
    return notice, redrawn[-1].params["reply_markup"]["inline_keyboard"] if redrawn else None


async def test_a_multi_question_is_answered_with_toggles_and_done(world: TelegramWorld) -> None:
    await add_resident(world.services, telegram=str(CHAT))
    await launch(world.services, PARK_CAMPAIGN)
    assert await world.services.dispatcher.drain() == 1
    [question] = world.standin.messages(CHAT)
    assert question["text"] == "Czego brakuje w parku?\nMożesz wybrać do 2, np. 1,3."
    assert question["reply_markup"]["inline_keyboard"] == toggles(set())
    message_id = question["message_id"]

    # (tap, notice the resident sees, keyboard redrawn to, or None: untouched)
    for data, notice, keyboard in [
        ("d:1:needs:ok", "Najpierw zaznacz co najmniej jedną odpowiedź.", None),
        ("t:1:needs:1", "☑ ławek", toggles({1})),
        ("t:1:needs:3", "☑ toalet", toggles({1, 3})),
        ("t:1:needs:2", "Możesz wybrać najwyżej 2. Odznacz jedną, by wybrać inną.", None),
        ("t:1:needs:1", "☐ ławek", toggles({3})),
        ("t:1:needs:2", "☑ oświetlenia", toggles({2, 3})),
    ]:
        assert await tap(world, data, message_id) == (notice, keyboard), data
    assert await responses(world.services) == []  # nothing counts before "done"
    assert world.standin.messages(CHAT)[0]["reply_markup"]["inline_keyboard"] == toggles({2, 3})
    async with world.services.sessions() as session:
        [state] = (await session.execute(select(col(Conversation.state)))).scalars()
    assert state["selected"] == ["lights", "toilets"]  # kept in the database, not in a worker's memory

    notice, _ = await tap(world, "d:1:needs:ok", message_id)
    assert notice == "✓"
    assert await responses(world.services) == [("needs", ["lights", "toilets"])]
    shown = world.standin.messages(CHAT)[0]
    assert shown["text"].endswith("\n\n✓ oświetlenia, toalet") and "reply_markup" not in shown
    assert await world.services.dispatcher.drain() == 1
    assert world.standin.messages(CHAT)[-1]["text"] == "Czy przyjdziesz znowu?"

    # The old keyboard's buttons count for nothing now.
    notice, keyboard = await tap(world, "t:1:needs:1", message_id)
    assert notice.startswith("To pytanie jest już zamknięte") and keyboard is None
    assert await responses(world.services) == [("needs", ["lights", "toilets"])]
    assert await inbound_outcomes(world.services) == [
        "nothing_picked",
        *["picked"] * 2,
        "too_many_picked",
        *["picked"] * 2,
        "answered",
        "stale_tap",
    ]


async def test_a_reminder_shows_the_picks_made_before_it(world: TelegramWorld, clock: ManualClock) -> None:
    await add_resident(world.services, telegram=str(CHAT))
    await launch(
        world.services,
        PARK_CAMPAIGN.replace("channels: [telegram]", "channels: [telegram]\nschedule: {reminders: [24h]}"),
    )
    await world.services.dispatcher.drain()
    [question] = world.standin.messages(CHAT)
    await tap(world, "t:1:needs:3", question["message_id"])  # ticked, but "done" never tapped
    clock.advance(hours=24)
    assert (await world.services.lifecycle.tick()).reminded == 1
    assert await world.services.dispatcher.drain() == 1
    reminder = world.standin.messages(CHAT)[-1]
    assert reminder["text"].startswith("Przypominamy o pytaniu:")
    assert reminder["reply_markup"]["inline_keyboard"] == toggles({3})
    assert await tap(world, "d:1:needs:ok", reminder["message_id"]) == ("✓", None)
    assert await responses(world.services) == [("needs", ["toilets"])]


async def test_a_typed_answer_still_works_beside_the_toggles(world: TelegramWorld) -> None:
    await add_resident(world.services, telegram=str(CHAT))
    await launch(world.services, PARK_CAMPAIGN)
    await world.services.dispatcher.drain()
    [question] = world.standin.messages(CHAT)
    await tap(world, "t:1:needs:1", question["message_id"])
    assert await world.post(world.standin.message_update(CHAT, "2, 3")) == 200
    assert await responses(world.services) == [("needs", ["lights", "toilets"])]  # what was typed, not the pick


@pytest.mark.parametrize(
    ("label", "make", "status", "expected"),
    [
        ("typed answer", lambda s: s.message_update(CHAT, "Tak!"), 200, ["answered"]),
        ("edited message ignored", lambda s: s.edited_update(CHAT, "nie", 1), 200, []),
        ("group message ignored", lambda s: s.message_update(-100123, "tak", chat_type="supergroup"), 200, []),
        ("sticker is re-asked", lambda s: s.sticker_update(CHAT), 200, ["answered"]),
        ("/help", lambda s: s.message_update(CHAT, "/help"), 200, ["help"]),
        ("blocked the bot", lambda s: s.blocked_update(CHAT), 200, ["stopped_by_provider"]),
    ],
)
async def test_update_table(
    world: TelegramWorld,
    label: str,
    make: Callable[[TelegramStandIn], dict[str, object]],
    status: int,
    expected: list[str],
) -> None:
    await asked(world)
    assert await world.post(make(world.standin)) == status, label
    assert await inbound_outcomes(world.services) == expected, label


@pytest.mark.parametrize(("label", "secret"), [("no secret", None), ("wrong secret", "guess")])
async def test_a_forged_update_is_refused(world: TelegramWorld, label: str, secret: str | None) -> None:
    await asked(world)
    assert await world.post(world.standin.message_update(CHAT, "tak"), secret=secret) == 403, label
    assert await responses(world.services) == []


async def test_a_retried_update_counts_once(world: TelegramWorld) -> None:
    await asked(world)
    update = world.standin.message_update(CHAT, "tak")
    assert (await world.post(update), await world.post(update)) == (200, 200)
    assert await responses(world.services) == [("uses_tram", "yes")]
    assert await inbound_outcomes(world.services) == ["answered"]


@pytest.mark.parametrize(
    ("fault", "column"),
    [(BLOCKED, "opted_out_at"), (NEVER_STARTED, "unreachable_at")],
)
async def test_a_resident_who_blocked_or_never_started_the_bot(
    world: TelegramWorld, fault: object, column: str
) -> None:
    world.standin.fail_chat(CHAT, fault)  # type: ignore[arg-type]
    await add_resident(world.services, telegram=str(CHAT))
    await launch(world.services, TELEGRAM_CAMPAIGN)
    await world.services.dispatcher.drain()
    [message] = await outbox(world.services)
    assert message.status == "failed"
    async with world.services.sessions() as session:
        contact = (await session.execute(select(ContactAddress))).scalar_one()
    assert getattr(contact, column) is not None


async def test_the_token_never_reaches_the_logs(world: TelegramWorld, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    await asked(world)
    assert TOKEN not in caplog.text and TOKEN.split(":")[1] not in caplog.text


async def _eventually(condition: Callable[[], Awaitable[bool]]) -> None:
    """Wait for the service's background task to act (an effect to poll, not a timer to wait out)."""
    async with asyncio.timeout(10):
        while not await condition():  # noqa: ASYNC110 (the poller is another task of the app)
            await asyncio.sleep(0.05)


async def test_serving_registers_the_webhook_with_its_secret(database_url: str, clock: ManualClock) -> None:
    async for world in _world(database_url, clock, background=True):
        [call] = world.standin.calls_to("setWebhook")
        assert call.params["url"] == world.webhook and call.params["secret_token"] == SECRET


async def test_polling_mode_reads_updates_without_a_webhook(database_url: str, clock: ManualClock) -> None:
    async for world in _world(database_url, clock, mode="polling", background=True):
        await add_resident(world.services, telegram=str(CHAT))
        await launch(world.services, TELEGRAM_CAMPAIGN)
        world.standin.push_update(world.standin.message_update(CHAT, "nie"))
        await _eventually(functools.partial(_answered_no, world.services))
        assert world.standin.calls_to("setWebhook") == []


async def test_polling_goes_past_an_update_the_store_refuses(database_url: str, clock: ManualClock) -> None:
    """A text PostgreSQL refuses (a NUL) stopped polling for good: the update was tried again every 5 s
    and nothing after it was read. Now it is kept as a failed event and the next update is read."""
    async for world in _world(database_url, clock, mode="polling", background=True):
        await add_resident(world.services, telegram=str(CHAT))
        await launch(world.services, TELEGRAM_CAMPAIGN)
        world.standin.push_update(world.standin.message_update(STRANGER, "hej\x00"))
        world.standin.push_update(world.standin.message_update(CHAT, "nie"))
        await _eventually(functools.partial(_answered_no, world.services))
        refused = "unknown_sender"  # a NUL is kept on either database: the text is stored sealed (0030)
        assert await inbound_outcomes(world.services) == [refused, "answered"]


async def _answered_no(services: Services) -> bool:
    return await responses(services) == [("uses_tram", "no")]


STRANGER = 777001


async def _sent(world: TelegramWorld) -> list[dict[str, object]]:
    await world.services.dispatcher.drain()
    return [call.params for call in world.standin.calls_to("sendMessage")]


async def test_a_resident_enrols_from_a_qr_code(world: TelegramWorld) -> None:
    standin = world.standin
    assert await world.post(standin.message_update(STRANGER, "/start bus-stop-12", language_code="pl")) == 200
    intro, age_question = await _sent(world)
    assert str(intro["text"]).startswith("Dzień dobry! Tu Miasto Gdańsk.")
    assert str(age_question["text"]).startswith("Ile masz lat?")  # the age first: nobody under 16 is asked
    buttons = age_question["reply_markup"]["inline_keyboard"]  # type: ignore[index]
    labels = ["poniżej 16", "18-29", "30-44", "45-64", "65+", "16+, wolę nie mówić"]
    assert [row[0]["text"] for row in buttons] == labels
    age_message = standin.messages(STRANGER)[-1]
    assert await world.post(standin.callback_update(STRANGER, "a:0:age_band:30-44", age_message["message_id"])) == 200
    [consent] = (await _sent(world))[2:]
    buttons = consent["reply_markup"]["inline_keyboard"]  # type: ignore[index]
    assert [row[0]["callback_data"] for row in buttons] == ["a:0:consent:yes", "a:0:consent:no"]

    consent_message = standin.messages(STRANGER)[-1]
    tap = standin.callback_update(STRANGER, "a:0:consent:yes", consent_message["message_id"])
    assert await world.post(tap) == 200
    [language_question] = (await _sent(world))[3:]
    assert "Українська" in str(language_question["reply_markup"])
    assert await world.post(standin.message_update(STRANGER, "English")) == 200
    [district_question] = (await _sent(world))[4:]
    assert str(district_question["text"]).startswith("Which district do you live in?")
    assert await world.post(standin.message_update(STRANGER, "oliwa")) == 200
    [welcome] = (await _sent(world))[5:]
    assert str(welcome["text"]).startswith("Thank you, you are in.")

    async with world.services.sessions() as session:
        contact = (await session.execute(select(ContactAddress))).scalar_one()
        from storage.residents import ResidentRepository

        resident = await ResidentRepository(session).get(contact.resident_id)
    assert (contact.consent_source, contact.consent_at is not None) == ("telegram:bus-stop-12", True)
    async with world.services.sessions() as session:
        [record] = (await session.execute(select(ConsentRecord))).scalars()
    assert (record.contact_id, record.change, record.source, record.channel) == (
        contact.id,
        "opt_in",
        "self_enrolment",
        "telegram",
    )
    assert record.notice is not None and record.notice.endswith("Czy możemy pisać do Ciebie tutaj z takimi pytaniami?")
    assert resident.language == "en"
    assert resident.attributes == {
        "recruited_via": "self-enrolment",
        "recruitment_source": "bus-stop-12",
        "district": "Oliwa",
        "age_band": "30-44",
    }

    # A campaign for Oliwa now reaches them.
    await launch(
        world.services,
        TELEGRAM_CAMPAIGN.replace(
            "channels: [telegram]", "channels: [telegram]\naudience: {where: {district: [Oliwa]}}"
        ),
    )
    assert len(await _sent(world)) == 7


async def test_a_chat_starts_over_at_most_twice_and_enrols_once(world: TelegramWorld) -> None:
    standin = world.standin
    for _ in range(5):
        assert await world.post(standin.message_update(STRANGER, "/start bus-stop-12")) == 200
    sent = [str(message["text"]) for message in await _sent(world)]
    assert len([text for text in sent if text.startswith("Dzień dobry!")]) == 3  # the first /start and 2 more
    assert sent[6:] == ["Ile masz lat? Wybierz przedział albo wpisz swój wiek."] * 2  # then the question again
    for text in ("37", "tak", "polski", "oliwa"):
        await world.post(standin.message_update(STRANGER, text))
    assert await inbound_outcomes(world.services) == [*["enrolling"] * 8, "enrolled"]

    # Enrolled once: a later /start (another poster) only says they are in; it asks no district again.
    await world.post(standin.message_update(STRANGER, "/start tram-stop-3"))
    assert (await inbound_outcomes(world.services))[-1] == "started"
    async with world.services.sessions() as session:
        resident = (await session.execute(select(Resident))).scalar_one()
    assert resident.attributes == {
        "recruited_via": "self-enrolment",
        "recruitment_source": "bus-stop-12",
        "district": "Oliwa",
        "age_band": "30-44",  # 37, typed
    }


async def test_a_resident_who_says_no_is_never_asked(world: TelegramWorld) -> None:
    standin = world.standin
    await world.post(standin.message_update(STRANGER, "/start poster"))
    await world.post(standin.message_update(STRANGER, "40"))
    await world.post(standin.message_update(STRANGER, "nie"))
    assert await inbound_outcomes(world.services) == ["enrolling", "enrolling", "declined"]
    sent = await _sent(world)
    assert str(sent[-1]["text"]).startswith("Rozumiemy — nie będziemy pisać.")
    await launch(world.services, TELEGRAM_CAMPAIGN)
    assert len(await _sent(world)) == len(sent)  # no question for them


async def test_a_resident_who_said_no_can_enrol_with_start_as_told(world: TelegramWorld) -> None:
    """ "If you change your mind, send /start": it begins the enrolment again (one of the chat's starts),
    and their own yes makes them reachable."""
    standin = world.standin
    await world.post(standin.message_update(STRANGER, "/start poster"))
    await world.post(standin.message_update(STRANGER, "wolę nie mówić"))
    await world.post(standin.message_update(STRANGER, "nie"))
    for text in ("/start", "wolę nie mówić", "tak", "polski", "oliwa"):
        await world.post(standin.message_update(STRANGER, text))
    assert await inbound_outcomes(world.services) == [
        "enrolling",
        "enrolling",
        "declined",
        "enrolling",
        *["enrolling"] * 3,
        "enrolled",
    ]
    sent = await _sent(world)
    assert str(sent[-1]["text"]).startswith("Dziękujemy, jesteś zapisany/-a.")
    await launch(world.services, TELEGRAM_CAMPAIGN)
    assert len(await _sent(world)) == len(sent) + 1  # now asked

    # Enrolled: the count of starts goes, the district stays.
    await world.post(standin.message_update(STRANGER, "/stop"))
    async with world.services.sessions() as session:
        resident = (await session.execute(select(Resident))).scalar_one()
    assert resident.attributes["district"] == "Oliwa" and "enrolment_starts" not in resident.attributes
    assert "age_band" not in resident.attributes  # they preferred not to say


async def test_declining_over_and_over_uses_up_the_starts(world: TelegramWorld) -> None:
    standin = world.standin
    for _ in range(4):
        await world.post(standin.message_update(STRANGER, "/start poster"))
        await world.post(standin.message_update(STRANGER, "30"))
        await world.post(standin.message_update(STRANGER, "nie"))
    sent = [str(message["text"]) for message in await _sent(world)]
    assert len([text for text in sent if text.startswith("Dzień dobry!")]) == 3


async def test_a_resident_under_16_is_thanked_and_never_enrolled(world: TelegramWorld) -> None:
    """Asked their age first, a 14-year-old is not asked for consent: a polite word, no age stored, the
    chat kept without consent and opted out (the reply goes through the outbox, which needs the
    address row), one ledger row saying so; no campaign reaches them."""
    standin = world.standin
    await world.post(standin.message_update(STRANGER, "/start poster"))
    await world.post(standin.message_update(STRANGER, "14"))
    assert await inbound_outcomes(world.services) == ["enrolling", "declined"]
    sent = await _sent(world)
    assert len(sent) == 3 and str(sent[-1]["text"]).startswith(
        "Dziękujemy! Pytamy tylko osoby, które mają co najmniej 16"
    )
    async with world.services.sessions() as session:
        contact = (await session.execute(select(ContactAddress))).scalar_one()
        resident = (await session.execute(select(Resident))).scalar_one()
        [record] = (await session.execute(select(ConsentRecord))).scalars()
    assert (contact.consent_at, contact.opted_out_at is not None) == (None, True)
    assert "age_band" not in resident.attributes
    assert (record.change, record.source, record.detail) == ("opt_out", "self_enrolment", "telegram:poster: under 16")
    await launch(world.services, TELEGRAM_CAMPAIGN)
    assert len(await _sent(world)) == len(sent)


async def test_strangers_without_start_get_nothing(world: TelegramWorld) -> None:
    assert await world.post(world.standin.message_update(STRANGER, "hello?")) == 200
    assert await inbound_outcomes(world.services) == ["unknown_sender"]
    assert await _sent(world) == []
