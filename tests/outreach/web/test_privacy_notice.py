"""Residents are told who processes their data and why: the privacy notice page in pl, en and uk over
a real socket, the first SMS of a campaign and the HELP reply carrying the controller and its link."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser

import pytest

from channels.sms_segments import count_segments
from flows.loader import load_campaign
from outreach.bootstrap import Services
from outreach.campaigns.commands import create_campaign, launch_campaign
from tests.conftest import ManualClock
from tests.factories import add_resident
from tests.outreach.helpers import CAMPAIGN_YAML, outbox, reply
from tests.providers import SANDBOX_SECRET
from tests.world import World, open_world

PHONE = "+48600100200"
CONTROLLER = "Miasto Gdansk <Wydzial Rozwoju>"  # escaped on the page


@pytest.fixture
async def world(database_url: str, clock: ManualClock) -> AsyncIterator[World]:
    async with open_world(
        database_url,
        clock,
        worker_id="test-worker",
        sandbox_secret=SANDBOX_SECRET,
        controller_name=CONTROLLER,
        dpo_contact="iod@gdansk.example",
        public_url="https://ankieta.gdansk.example",
    ) as opened:
        yield opened


class Outline(HTMLParser):
    """The page's lang attribute, headings and text, as a screen reader would meet them."""

    def __init__(self) -> None:
        super().__init__()
        self.lang: str | None = None
        self.headings: list[tuple[str, str]] = []
        self.text: list[str] = []
        self._heading: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "html":
            self.lang = dict(attrs).get("lang")
        if tag in ("h1", "h2"):
            self._heading = tag

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h1", "h2"):
            self._heading = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._heading is not None:
            self.headings.append((self._heading, data))


async def page(world: World, path: str, **headers: str) -> tuple[int, Outline]:
    async with world.client.get(path, headers=headers) as response:
        outline = Outline()
        outline.feed(await response.text())
        return response.status, outline


@pytest.mark.parametrize(
    ("language", "title", "rights", "officer"),
    [
        ("pl", "Jak przetwarzamy Twoje dane", "Twoje prawa", "Inspektor ochrony danych: iod@gdansk.example"),
        ("en", "How we process your data", "Your rights", "Data protection officer: iod@gdansk.example"),
        ("uk", "Як ми обробляємо ваші дані", "Ваші права", "Інспектор із захисту даних: iod@gdansk.example"),
    ],
)
async def test_the_notice_is_served_in_each_language(
    world: World, language: str, title: str, rights: str, officer: str
) -> None:
    status, outline = await page(world, f"/privacy/{language}")
    assert status == 200 and outline.lang == language
    assert outline.headings[0] == ("h1", title) and ("h2", rights) in outline.headings
    text = "".join(outline.text)
    assert CONTROLLER in text and officer in text and "uodo.gov.pl" in text


async def test_privacy_alone_follows_the_browser_and_other_languages_are_404(world: World) -> None:
    assert (await page(world, "/privacy", **{"Accept-Language": "uk-UA,uk;q=0.9"}))[1].lang == "uk"
    assert (await page(world, "/privacy"))[1].lang == "pl"
    assert (await page(world, "/privacy/de"))[0] == 404
    async with world.client.get("/privacy/en") as response:
        assert "<Wydzial" not in await response.text()  # the setting is text, never markup


async def test_the_first_sms_and_help_name_the_controller_and_link_the_notice(world: World) -> None:
    services: Services = world.services
    await add_resident(services, phone=PHONE)
    flow = load_campaign(CAMPAIGN_YAML)
    record = await create_campaign(
        services.sessions, flow, clock=services.clock, notice=services.settings.privacy_notice()
    )
    await launch_campaign(services.sessions, record.slug, clock=services.clock)
    [first] = await outbox(services)
    line = f"Administrator danych: {CONTROLLER}, info: https://ankieta.gdansk.example/privacy/pl"
    assert line in first.text.splitlines()
    # The line adds no Polish letters: a GSM-7 first message stays GSM-7.
    assert count_segments(line).encoding == "GSM-7"
    await reply(services, PHONE, "POMOC")
    help_text = (await outbox(services))[-1].text
    assert help_text.endswith(line) and re.search(r"STOP", help_text)
