"""The unsubscribe page says what the click did, one row per case: unsubscribed now, already
unsubscribed (a second click, or a STOP sent before), nothing changed (the link was used before and
the resident wrote START since: a click on an old link does not undo their START), or a link that is
not ours (404, as a page). Each row runs in a world of its own (tests/world.py): a resident with an
email address and a phone was mailed the first question; the row's earlier steps run, then the
click's POST; the page's heading and whether the address still gets questions are checked.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
from _pytest.mark import ParameterSet

from channels.base import Inbound
from channels.email_tokens import reply_token
from storage.residents import ResidentRepository
from tests.conftest import ManualClock
from tests.factories import add_resident
from tests.outreach.helpers import launch
from tests.providers import SANDBOX_SECRET
from tests.world import World, open_world

PHONE, MAIL = "+48600100200", "ola@example.org"
CAMPAIGN = """
name: Tramwaj
languages: [pl, en]
channels: [email]
schedule: {quiet_hours: null}
questions:
  - {id: uses_tram, type: yesno, text: {pl: "Czy jeździsz tramwajem?", en: "Do you ride the tram?"}}
"""

_ids = itertools.count(1)


def mailed_token(world: World) -> str:
    """The reply token of the question mailed to the resident (its links carry it)."""
    [mail] = world.smtp.messages
    found = re.search(rb"reply\+([a-z2-7]+)@", mail.content)
    assert found is not None
    return found.group(1).decode()


def forged_token(world: World) -> str:
    """Shaped as a token, signed with a key that is not ours: no message carries it."""
    return reply_token(b"a guessed key", "q:1:1:uses_tram:0")


Step = Callable[[World], Awaitable[object]]


async def click(world: World) -> int:
    """The one-click unsubscribe POST (RFC 8058), as a mail client or the page's button sends it."""
    async with world.client.post(
        f"/unsubscribe/{mailed_token(world)}", data={"List-Unsubscribe": "One-Click"}
    ) as response:
        return response.status


def writes(channel: str, address: str, text: str) -> Step:
    """The resident writes `text` (a reply the service has verified as theirs)."""

    async def step(world: World) -> object:
        return await world.services.pipeline.handle(
            Inbound(channel, f"M{next(_ids)}", address, text, received_at=world.services.clock())
        )

    return step


@dataclass(frozen=True)
class Row:
    before: tuple[Step, ...]
    token: Callable[[World], str]
    status: int
    heading: str  # the page's <h1>
    says: str  # a phrase of its text
    subscribed_after: bool  # the email address still gets questions


def row(
    name: str,
    before: tuple[Step, ...],
    status: int,
    heading: str,
    says: str,
    *,
    subscribed_after: bool,
    token: Callable[[World], str] = mailed_token,
) -> ParameterSet:
    return pytest.param(Row(before, token, status, heading, says, subscribed_after), id=name)


ROWS = [
    row("a first click", (), 200, "You are unsubscribed", "no more questions", subscribed_after=False),
    row(
        "the same link clicked again",
        (click,),
        200,
        "You were already unsubscribed",
        "Nothing has changed",
        subscribed_after=False,
    ),
    row(
        "a click after a STOP by SMS",
        (writes("sms", PHONE, "STOP"),),
        200,
        "You were already unsubscribed",
        "Nothing has changed",
        subscribed_after=False,
    ),
    row(
        "a click, a START by email, the old link clicked again",
        (click, writes("email", MAIL, "START")),
        200,
        "Nothing has changed",
        "wrote START",
        subscribed_after=True,
    ),
    row(
        "a link that is not ours",
        (),
        404,
        "This link is not valid",
        "Nothing has changed",
        subscribed_after=True,
        token=forged_token,
    ),
    row(
        "not a token at all",
        (),
        404,
        "This link is not valid",
        "Nothing has changed",
        subscribed_after=True,
        token=lambda world: "not-a-token",
    ),
]


@asynccontextmanager
async def mailed(database_url: str, clock: ManualClock) -> AsyncIterator[World]:
    """The service with email (SMTP) configured, and the first question mailed to one resident."""
    async with open_world(
        database_url, clock, smtp=True, sandbox_secret=SANDBOX_SECRET, rate_email_per_minute=60_000
    ) as world:
        await add_resident(world.services, phone=PHONE, email=MAIL, language="en")
        await launch(world.services, CAMPAIGN)
        assert await world.services.dispatcher.drain() == 1
        yield world


async def email_subscribed(world: World) -> bool:
    async with world.services.sessions() as session:
        contact = await ResidentRepository(session).contact_by_address("email", MAIL)
    assert contact is not None
    return contact.opted_out_at is None


@pytest.mark.parametrize("case", ROWS)
async def test_the_unsubscribe_page_says_what_the_click_did(case: Row, database_url: str, clock: ManualClock) -> None:
    async with mailed(database_url, clock) as world:
        for step in case.before:
            await step(world)
        async with world.client.post(
            f"/unsubscribe/{case.token(world)}",
            data={"List-Unsubscribe": "One-Click"},
            headers={"Accept-Language": "en-GB,en;q=0.9,pl;q=0.5"},  # a link of nobody's: the browser's
        ) as response:
            page = await response.text()
            assert (response.status, response.content_type) == (case.status, "text/html")
        heading = re.search(r"<h1[^>]*>(.*?)</h1>", page)
        assert heading is not None, page
        assert heading.group(1) == case.heading
        assert case.says in page
        assert await email_subscribed(world) is case.subscribed_after
