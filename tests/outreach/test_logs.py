"""OUTREACH_LOG_FORMAT=json: one JSON object per line, with the same words as the text format and
nothing else, so no resident's address reaches a log collector."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from outreach.logs import JsonLines
from tests.conftest import ManualClock
from tests.factories import add_resident
from tests.outreach.helpers import launch
from tests.providers import SMS_FROM, TELEGRAM_WEBHOOK_SECRET
from tests.world import open_world

PHONE, CHAT, MAIL = "+48600100200", 731948265, "ola.kowalska@example.org"
RELAY_LOG = "mail.log"  # the test SMTP server's own session log (the relay's, not the service's)
CAMPAIGN = """
name: Tramwaj nocą
languages: [pl]
channels: [sms, telegram, email]
schedule: {quiet_hours: null}
questions:
  - {id: uses_tram, type: yesno, text: {pl: "Czy jeździsz tramwajem?"}}
  - {id: improve, type: text, text: {pl: "Co poprawić?"}}
"""


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Every record of every logger at DEBUG, written as `outreach serve` writes them in json format."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLines())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def test_a_record_is_one_json_object_on_one_line_traceback_included() -> None:
    try:
        raise ValueError("two\nlines")
    except ValueError:
        record = logging.LogRecord("outreach.x", logging.ERROR, __file__, 1, "outbox %s:\n%s", (7, "failed"), None)
        record.exc_info = sys.exc_info()
    record.address = PHONE  # an extra attribute (as a library might attach): never written
    line = JsonLines().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert set(entry) == {"time", "level", "logger", "message", "pid", "exception"}
    assert entry["level"] == "ERROR" and entry["logger"] == "outreach.x" and entry["message"] == "outbox 7:\nfailed"
    assert entry["exception"].startswith("Traceback") and "ValueError: two\nlines" in entry["exception"]
    assert PHONE not in line


async def test_json_lines_of_sends_and_webhooks_parse_and_carry_no_phone_email_or_chat_id(
    database_url: str, clock: ManualClock, json_log: io.StringIO
) -> None:
    # A chat's next message waits for its one-a-second slot unless told otherwise: no waiting here.
    fast: dict[str, Any] = {"rate_telegram_per_chat_per_second": 100.0}
    async with open_world(database_url, clock, twilio=True, telegram=True, smtp=True, **fast) as world:
        services = world.services
        await add_resident(services, phone=PHONE)
        await add_resident(services, telegram=str(CHAT))
        await add_resident(services, email=MAIL)
        campaign_id = await launch(services, CAMPAIGN)
        assert await services.dispatcher.drain() == 3
        await world.twilio.deliver_inbound(world.url("/webhooks/twilio/sms"), from_=PHONE, to=SMS_FROM, body="tak")
        [question] = world.telegram.messages(CHAT)
        tap = world.telegram.callback_update(CHAT, f"a:{campaign_id}:uses_tram:yes", question["message_id"])
        assert await world.telegram.post_update(world.url("/webhooks/telegram"), tap, TELEGRAM_WEBHOOK_SECRET) == 200
        assert await services.dispatcher.drain() == 2

    entries = [json.loads(line) for line in json_log.getvalue().splitlines()]
    ours = [entry for entry in entries if entry["logger"].startswith("outreach")]
    assert any(entry["message"].startswith("inbound sms: answered") for entry in ours), ours
    assert all(set(entry) <= {"time", "level", "logger", "message", "pid", "exception", "stack"} for entry in entries)
    personal = [PHONE, PHONE.removeprefix("+48"), str(CHAT), MAIL, MAIL.partition("@")[0]]
    leaks = [
        (entry["logger"], value)
        for line, entry in zip(json_log.getvalue().splitlines(), entries, strict=True)
        if entry["logger"] != RELAY_LOG
        for value in personal
        if value in line
    ]
    assert leaks == []
