"""Replies through a real outage (tests/world.py `store_outage`), over real sockets: the webhook answers
200 and stores nothing, the spool keeps them, and the flusher (outreach.inbound.spool_flusher) applies
them once, in order, when the store is back; a corrupt file is set aside; two flushers apply each
file once; the loop backs off through an outage without sleeping (its wait is injected)."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import logging
import re
from collections.abc import AsyncIterator, Collection
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlmodel import col

from channels.base import Inbound
from channels.standins.twilio import API_VERSION
from channels.standins.twilio_retries import deliver_with_retries
from outreach.bootstrap import Services
from outreach.inbound.pipeline import InboundPipeline, Outcome
from outreach.inbound.spool import CORRUPT_FOLDER, InboundSpool
from outreach.inbound.spool_flusher import FlushRound, SpoolFlusher
from outreach.rights.requests import ResidentRequests
from outreach.store_errors import DEFECT_PAUSE_SECONDS
from storage.address_keys import address_keys
from storage.residents import ResidentRepository
from storage.tables import InboundEvent
from tests.conftest import ManualClock
from tests.factories import add_resident
from tests.outreach.helpers import inbound_outcomes, launch, responses
from tests.outreach.rights.scenario import OFFICIAL
from tests.providers import SMS_FROM, TELEGRAM_WEBHOOK_SECRET, TWILIO_ACCOUNT_SID
from tests.world import World, open_world, store_outage

# A sealed spool file: key id, colon, URL-safe base64 (no quote, so no JSON of the message). Looking for
# the plain text instead fails now and then: a short word like "Ola" turns up in random base64.
SEALED_FILE = re.compile(rb"[A-Za-z0-9_-]+:[A-Za-z0-9_=-]+")


def is_sealed(content: bytes) -> bool:
    return SEALED_FILE.fullmatch(content.strip()) is not None


PHONES = [f"+4860010{number:04d}" for number in range(10)]
CHAT = 515151
SMS_WEBHOOK = "/webhooks/twilio/sms"
TWO_QUESTIONS = """
name: Tramwaj
languages: [pl]
channels: [sms, telegram]
schedule: {quiet_hours: null}
questions:
  - {id: uses_tram, type: yesno, text: {pl: "Czy jeździsz tramwajem?"}}
  - {id: often, type: yesno, text: {pl: "Codziennie?"}}
"""


@asynccontextmanager
async def asked(database_url: str, clock: ManualClock, phones: int = 1) -> AsyncIterator[World]:
    """The service with Twilio and Telegram stand-ins; residents asked the first question."""
    async with open_world(
        database_url,
        clock,
        twilio=True,
        telegram=True,
        rate_sms_segments_per_second=1_000,  # the first questions go out at once: these tests are about replies
        rate_telegram_per_chat_per_second=1_000,
    ) as world:
        for phone in PHONES[:phones]:
            await add_resident(world.services, phone=phone)
        await add_resident(world.services, telegram=str(CHAT))
        await launch(world.services, TWO_QUESTIONS)
        assert await world.services.dispatcher.drain() == phones + 1
        yield world


async def sms(world: World, body: str, *, sid: str, phone: str = PHONES[0]) -> int:
    """Twilio posting a resident's SMS (the same `sid` again: Twilio's retry of it)."""
    form = {
        "AccountSid": world.twilio.account_sid,
        "ApiVersion": API_VERSION,
        "Body": body,
        "From": phone,
        "MessageSid": sid,
        "NumMedia": "0",
        "SmsSid": sid,
        "To": SMS_FROM,
        "ProfileName": "Ola Kowalska",  # WhatsApp sends the sender's profile name: never spooled
    }
    return await world.twilio.post_signed(world.url(SMS_WEBHOOK), form)


def flusher(world: World, spool: InboundSpool | None = None) -> SpoolFlusher:
    return SpoolFlusher(spool or world.services.spool, world.services)


async def received_at(world: World) -> list[object]:
    async with world.services.sessions() as session:
        rows = await session.execute(select(col(InboundEvent.received_at)).order_by(col(InboundEvent.id)))
        return list(rows.scalars())


async def test_a_reply_in_an_outage_is_answered_and_applied_once_when_the_store_is_back(
    database_url: str, clock: ManualClock
) -> None:
    async with asked(database_url, clock) as world:
        spool = world.services.spool
        async with store_outage(world.services):
            assert await sms(world, "tak", sid="SM" + "1" * 32) == 200
            assert await sms(world, "tak", sid="SM" + "1" * 32) == 200  # Twilio's retry of it
            assert await flusher(world).flush() == FlushRound(outage=True)  # the store is still away
        assert len(spool.pending()) == 2
        assert all(is_sealed((spool.directory / name).read_bytes()) for name in spool.pending())
        assert await inbound_outcomes(world.services) == []  # nothing stored until the flush
        assert await flusher(world).flush() == FlushRound(applied=2)
        assert await inbound_outcomes(world.services) == ["answered"]  # the retry was a duplicate, not stored
        assert await responses(world.services) == [("uses_tram", "yes")]
        assert spool.pending() == []
        assert await flusher(world).flush() == FlushRound()


async def test_a_spooled_reply_that_meets_a_schema_defect_is_an_error_once_and_waits_longer(
    database_url: str, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    # A real defect: the inbound events' table renamed away, as a half-applied change left it.
    async with asked(database_url, clock) as world:
        async with store_outage(world.services):
            assert await sms(world, "tak", sid="SM" + "3" * 32) == 200
        async with world.services.sessions() as session, session.begin():
            await session.execute(text("ALTER TABLE inbound_events RENAME TO inbound_events_away"))
        try:
            pauses: list[float] = []

            async def wait(seconds: float, wakeable: bool) -> None:
                pauses.append(seconds)
                stopping.set()

            stopping = asyncio.Event()
            looping = SpoolFlusher(world.services.spool, world.services, wait=wait)
            await looping.run(stopping)
            assert await looping.flush() == FlushRound(outage=True, defect=True)  # again: not logged again
        finally:
            async with world.services.sessions() as session, session.begin():
                await session.execute(text("ALTER TABLE inbound_events_away RENAME TO inbound_events"))
        assert pauses == [DEFECT_PAUSE_SECONDS]  # not the outage's half a second: a defect does not heal
        errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
        assert len(errors) == 1 and "inbound_events" in errors[0] and "still away" not in caplog.text, errors
        assert PHONES[0] not in caplog.text
        assert len(world.services.spool.pending()) == 1  # kept for when the schema is right
        assert await flusher(world).flush() == FlushRound(applied=1)


async def test_the_spool_is_applied_in_arrival_order_and_as_of_arrival(database_url: str, clock: ManualClock) -> None:
    async with asked(database_url, clock) as world:
        arrived = clock()
        async with store_outage(world.services):
            assert await sms(world, "tak", sid="SM" + "1" * 32) == 200
        clock.advance(minutes=5)
        # The store is back, but older input waits on disk: this one queues behind it, not ahead.
        assert await sms(world, "nie", sid="SM" + "2" * 32) == 200
        assert await inbound_outcomes(world.services) == []
        clock.advance(hours=1)
        assert await flusher(world).flush() == FlushRound(applied=2)
        assert await responses(world.services) == [("uses_tram", "yes"), ("often", "no")]
        assert await received_at(world) == [arrived, arrived + timedelta(minutes=5)]  # not the flush's time
        assert await sms(world, "tak", sid="SM" + "3" * 32) == 200  # the spool is empty: straight to the store
        assert await inbound_outcomes(world.services) == ["answered", "answered", "no_conversation"]


async def test_a_tap_in_an_outage_stops_its_spinner_and_counts_when_applied(
    database_url: str, clock: ManualClock
) -> None:
    async with asked(database_url, clock) as world:
        [question] = world.telegram.messages(CHAT)
        update = world.telegram.callback_update(CHAT, "a:1:uses_tram:yes", question["message_id"])
        async with store_outage(world.services):
            status = await world.telegram.post_update(world.url("/webhooks/telegram"), update, TELEGRAM_WEBHOOK_SECRET)
        assert status == 200
        assert len(world.telegram.calls_to("answerCallbackQuery")) == 1
        assert all(
            is_sealed((world.services.spool.directory / file).read_bytes()) for file in world.services.spool.pending()
        )
        assert await flusher(world).flush() == FlushRound(applied=1)
        assert await responses(world.services) == [("uses_tram", "yes")]


async def test_a_corrupt_file_is_set_aside_reported_and_not_looped_on(database_url: str, clock: ManualClock) -> None:
    async with asked(database_url, clock) as world:
        spool = world.services.spool
        async with store_outage(world.services):
            assert await sms(world, "tak", sid="SM" + "1" * 32) == 200
        [good] = spool.pending()
        broken = "0" * 20 + "-0000001-00000000-000000.json"  # sorts first
        (spool.directory / broken).write_bytes(b'{"version": 1, "kind": "inbound", "item": {"cha')
        assert await flusher(world).flush() == FlushRound(applied=1, set_aside=1)
        assert (spool.directory / CORRUPT_FOLDER / broken).exists()
        assert await responses(world.services) == [("uses_tram", "yes")]
        assert await flusher(world).flush() == FlushRound()  # set aside once, not met again
        assert good not in spool.pending()


async def test_two_flushers_racing_on_one_spool_apply_each_file_once(database_url: str, clock: ManualClock) -> None:
    async with asked(database_url, clock, phones=10) as world:
        async with store_outage(world.services):
            for number, phone in enumerate(PHONES):
                assert await sms(world, "tak", sid=f"SM{number:032d}", phone=phone) == 200
        # Two serve processes' flushers on one directory (each its own view of it, its own lock).
        first, second = flusher(world), flusher(world, InboundSpool(world.services.spool.directory))
        rounds = await asyncio.gather(first.flush(), second.flush(), first.flush(), second.flush())
        assert sum(done.applied for done in rounds) == 10
        assert await inbound_outcomes(world.services) == ["answered"] * 10
        assert world.services.spool.pending() == []


async def test_the_loop_backs_off_through_an_outage_and_applies_when_the_store_returns(
    database_url: str, clock: ManualClock
) -> None:
    async with asked(database_url, clock) as world, AsyncExitStack() as outage:
        await outage.enter_async_context(store_outage(world.services))
        assert await sms(world, "tak", sid="SM" + "1" * 32) == 200
        stopping = asyncio.Event()
        waits: list[tuple[float, bool]] = []

        async def wait(seconds: float, wakeable: bool) -> None:  # no sleeping: the test moves on at once
            waits.append((seconds, wakeable))
            if len(waits) == 3:
                await outage.aclose()  # the store comes back
            if wakeable:
                stopping.set()

        await SpoolFlusher(world.services.spool, world.services, min_pause=0.5, max_pause=1.5, wait=wait).run(stopping)
        assert waits == [(0.5, False), (1.0, False), (1.5, False), (5.0, True)]
        assert await responses(world.services) == [("uses_tram", "yes")]


class DefectivePipeline(InboundPipeline):
    """A pipeline with a defect: every message raises something that is no store error."""

    def __init__(self) -> None:
        pass

    def at(self, now: datetime) -> InboundPipeline:
        return self

    async def handle(self, inbound: Inbound, *, dequeue: int | None = None) -> Outcome:
        raise RuntimeError("a defect")


async def test_an_item_that_fails_for_a_defect_is_set_aside_not_retried_forever(
    services: Services, tmp_path: Path
) -> None:
    spool = InboundSpool(tmp_path / "spool")
    sent = Inbound(channel="sms", provider_id="SM1", address=PHONES[0], text="tak", received_at=services.clock())
    later = dataclasses.replace(sent, provider_id="SM2")
    first, second = (spool.keep(item, arrived_at=services.clock()) for item in (sent, later))
    with_a_defect = copy.copy(services)
    with_a_defect.pipeline = DefectivePipeline()  # the pipeline is made on first use: this one instead
    defective = SpoolFlusher(spool, with_a_defect)
    assert await defective.flush() == FlushRound(set_aside=2)  # the second was not held up behind the first
    assert sorted(path.name for path in (spool.directory / CORRUPT_FOLDER).iterdir()) == [first, second]
    assert spool.pending() == []


async def test_without_a_spool_twilios_retries_run_out_in_an_outage_and_with_it_the_first_call_is_answered(
    database_url: str, clock: ManualClock, tmp_path: Path
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    url = "/webhooks/twilio/sms#rc=5&rp=all"  # what `outreach webhooks` tells operators to set
    form = {"AccountSid": TWILIO_ACCOUNT_SID, "MessageSid": "SM" + "1" * 32, "From": PHONES[0], "To": SMS_FROM}
    async with open_world(database_url, clock, twilio=True, spool_dir=tmp_path / "a-file" / "spool") as world:
        await add_resident(world.services, phone=PHONES[0])
        async with store_outage(world.services):
            assert await deliver_with_retries(world.twilio, world.url(url), form | {"Body": "tak"}) == [503] * 6
        assert await inbound_outcomes(world.services) == []  # Twilio gave up: the reply is lost
    async with open_world(database_url, clock, twilio=True) as world:
        async with store_outage(world.services):
            assert await deliver_with_retries(world.twilio, world.url(url), form | {"Body": "nie"}) == [200]
        assert await flusher(world).flush() == FlushRound(applied=1)
        assert await inbound_outcomes(world.services) == ["no_conversation"]  # stored (no campaign asked them)


class ImpatientSpool:
    """The spool as an erasure reaches it, waiting no time for a flusher's lock."""

    def __init__(self, spool: InboundSpool) -> None:
        self._spool = spool

    async def forget(self, addresses: Collection[tuple[str, str]]) -> int | None:
        return await self._spool.forget(addresses, wait=0)


async def stored_texts(world: World) -> list[tuple[str, int | None]]:
    async with world.services.sessions() as session:
        rows = await session.execute(
            select(col(InboundEvent.channel), col(InboundEvent.text), col(InboundEvent.contact_id)).order_by(
                col(InboundEvent.id)
            )
        )
        keys = address_keys(session)  # what residents wrote is kept encrypted
        return [(str(keys.open_message(channel, "text", text)), contact) for channel, text, contact in rows.all()]


async def test_an_erasure_removes_the_residents_messages_waiting_in_the_spool(
    database_url: str, clock: ManualClock
) -> None:
    async with asked(database_url, clock, phones=2) as world:
        spool = world.services.spool
        async with store_outage(world.services):
            assert await sms(world, "tak, dzwońcie 601 234 567", sid="SM" + "1" * 32, phone=PHONES[0]) == 200
            assert await sms(world, "nie", sid="SM" + "2" * 32, phone=PHONES[1]) == 200
        assert len(spool.pending()) == 2
        services = world.services
        requests = ResidentRequests(services.sessions, services.settings, clock=services.clock, spool=spool)
        assert (await requests.erase(PHONES[0], actor=OFFICIAL)).spooled == 1
        assert len(spool.pending()) == 1
        assert await flusher(world).flush() == FlushRound(applied=1)
        assert [text for text, _ in await stored_texts(world)] == ["nie"]  # the neighbour's only


async def test_a_message_the_erasure_could_not_reach_in_the_spool_comes_as_a_strangers(
    database_url: str, clock: ManualClock
) -> None:
    async with asked(database_url, clock) as world:
        spool, services = world.services.spool, world.services
        async with store_outage(world.services):
            assert await sms(world, "tak", sid="SM" + "3" * 32, phone=PHONES[0]) == 200
        requests = ResidentRequests(
            services.sessions, services.settings, clock=services.clock, spool=ImpatientSpool(spool)
        )
        with spool.flushing() as ours:  # a flusher's round under way in another process
            assert ours
            assert (await requests.erase(PHONES[0], actor=OFFICIAL)).spooled is None
        assert await flusher(world).flush() == FlushRound(applied=1)
        assert await stored_texts(world) == [("tak", None)]  # no contact: nothing of hers came back
        assert await inbound_outcomes(services) == [Outcome.UNKNOWN_SENDER.value]
        async with services.sessions() as session:
            assert await ResidentRepository(session).contact_by_address("sms", PHONES[0]) is None
