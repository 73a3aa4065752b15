"""The campaign page's live results (issue 21): weighted beside raw with margins of error, equal to
the read API's for the same campaign; the response rate over time and by channel and district with
small cells withheld; free-text groups without identities; export links by role; all of it in the
live part the page's script swaps in."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from datetime import timedelta
from typing import Any

from outreach.bootstrap import Services
from outreach.web.admin.pages import SLOW_FIGURES
from outreach.web.admin.results_panels import SlowFigures, SlowInputs, build_slow_figures
from tests.conftest import ManualClock
from tests.factories import add_resident
from tests.outreach.helpers import launch, reply
from tests.outreach.results.weighted_fixture import CAMPAIGN as CITY_CAMPAIGN
from tests.outreach.results.weighted_fixture import answered_city
from tests.outreach.web.admin.test_campaign_page import row
from tests.outreach.web.admin.test_pages import Client, logged_in, official
from tests.outreach.web.admin.test_pages import pages as pages  # the fixture
from tests.outreach.web.api.helpers import auth

WEIGHTED_CITY = CITY_CAMPAIGN.replace(
    "questions:", "audience:\n  sample: {size: 16, strata: [district], margins: city}\nquestions:"
)
DOWNLOADS = ("export.csv", "export.jsonl", "flow-results.zip")


def section(page: str, heading: str, until: str | None = None) -> str:
    """The page from the heading with id `heading` to the next h2 (or to the heading `until`)."""
    start = page.index(f'id="{heading}"')
    end = page.index(f'id="{until}"', start) if until else page.find("<h2", start + 1)
    return page[start : end if end > 0 else len(page)]


def percent(share: float | None, digits: int = 1, sign: str = "") -> str:
    return "–" if share is None else f"{sign}{share * 100:.{digits}f}%"


async def api_results(pages: Client, services: Services, campaign_id: int, **params: str) -> dict[str, Any]:
    response = await pages.get(
        f"/api/v1/campaigns/{campaign_id}/results", headers=await auth(services, "responses:read"), params=params
    )
    assert response.status == 200
    body: dict[str, Any] = json.loads(await response.text())
    return body


async def test_weighted_and_raw_figures_on_the_page_are_the_apis(services: Services, pages: Client) -> None:
    record = await answered_city(services, campaign=WEIGHTED_CITY)
    assert record.id is not None
    await official(services, role="viewer")
    await logged_in(pages)
    page = await (await pages.get(f"/admin/campaigns/{record.slug}")).text()
    weighted = (await api_results(pages, services, record.id, weights="city", by="district"))["weighted"]
    raw = await api_results(pages, services, record.id)

    # Raw: the per-question table says the API's unweighted counts and shares.
    counts = raw["questions"][0]["counts"]
    assert row(page, "tak") == [str(counts["yes"]), percent(counts["yes"] / 11, 0)] == ["5", "45%"]

    # Weighted, beside raw: n, raw share, weighted share and its margin of error, as the API says them.
    part = section(page, "weighted-heading", "timeline-heading")
    visits = weighted["questions"][0]
    for key, label in (("yes", "tak"), ("no", "nie")):
        value = next(value for value in visits["values"] if value["value"] == key)
        assert row(part, label) == [
            str(value["n"]),
            percent(value["share"]),
            percent(value["weighted_share"]),
            percent(value["margin_of_error"], sign="±"),
        ]
    assert row(part, "tak")[2] == "73.3%"  # 22/30, worked out by hand (weighted_fixture)
    assert f"efektywne n {visits['effective_n']:.1f}, efekt schematu {visits['design_effect']:.2f}." in part
    assert weighted["design_effect"] > 1 and f"{weighted['design_effect']:.2f}" in part

    # The strata: Oliwa's 2 respondents are a small cell, and Osowa's 8 would tell it: both withheld.
    for stratum in weighted["strata"]:
        assert row(part, f"dzielnica: {stratum['value']}")[1:] == [
            "–" if stratum["contacted"] is None else str(stratum["contacted"]),
            "–" if stratum["answered"] is None else str(stratum["answered"]),
            percent(stratum["response_rate"], 0),
        ]
        assert stratum["answered"] is None


async def test_rates_over_time_and_by_channel_and_district_withhold_small_cells(
    services: Services, pages: Client
) -> None:
    record = await answered_city(services)
    await official(services, role="viewer")
    await logged_in(pages)
    page = await (await pages.get(f"/admin/campaigns/{record.slug}")).text()

    # 16 asked and 11 answering, all in the fixture's one hour.
    timeline = section(page, "timeline-heading")
    assert row(timeline, "2027-03-02 12:00") == ["16", "11", "69%"]
    assert timeline.count("<circle") == 1

    channel = section(page, "rate-channel-heading")
    assert row(channel, "sms") == ["16", "11", "69%"]
    assert '<rect class="bar" x="220" y="0" width="206"' in channel  # 11/16 of 300
    # Asked: Mars (1) is a small cell, and Oliwa (5, "oliwa " counted with it) its complement; of the
    # respondents Oliwa (2) and Mars (1) are small and together still under 5: Osowa's 8 is withheld too.
    district = section(page, "rate-district-heading")
    assert row(district, "Osowa") == ["10", "–", "–"]
    assert row(district, "Oliwa") == ["–", "–", "–"]
    assert row(district, "Mars") == ["–", "–", "–"]
    assert "oliwa " not in district


async def test_without_margins_the_page_says_so_and_why(services: Services, pages: Client) -> None:
    await add_resident(services, phone="+48601000001")
    await launch(services)
    await official(services, role="viewer")
    await logged_in(pages)
    live = await (await pages.get("/admin/campaigns/tramwaj-na-morene/live?lang=en")).text()
    assert "This campaign has no weights: its audience names no population margins" in live
    assert 'id="w-' not in live


async def test_margins_that_cannot_be_met_are_said_not_hidden(services: Services, pages: Client) -> None:
    record = await answered_city(services, campaign=WEIGHTED_CITY.replace("margins: city", "margins: town"))
    await official(services, role="viewer")
    await logged_in(pages)
    live = await (await pages.get(f"/admin/campaigns/{record.slug}/live?lang=en")).text()
    assert "The answers cannot be weighted to the margins town yet: no margins named &#39;town&#39;" in live


FREE_TEXT = """
name: Ławki
languages: [pl]
channels: [sms]
questions:
  - {id: idea, type: text, text: {pl: "Co zmienić w parku?"}}
"""
TEXTS = [
    "Więcej ławek przy stawie",
    "Brakuje ławek, dzwońcie 601 000 002",
    "ławek mało, piszcie jan.kowalski@example.com",
    "Lepsze oświetlenie",
]


async def test_free_text_groups_are_the_apis_without_identities(services: Services, pages: Client) -> None:
    phones = [f"+4860100000{number}" for number in range(1, 5)]
    for phone in phones:
        await add_resident(services, phone=phone)
    campaign_id = await launch(services, FREE_TEXT)
    for phone, text in zip(phones, TEXTS, strict=True):
        await reply(services, phone, text)
    await official(services, role="viewer")
    await logged_in(pages)
    page = await (await pages.get("/admin/campaigns/lawki/live")).text()
    part = section(page, "free-text-heading")
    free_text = (await api_results(pages, services, campaign_id))["free_text"][0]
    shown = re.findall(
        r'<th scope="row">([^<]+?)(?: <span class="forms">[^<]*</span>)?</th><td class="number">(\d+)</td>', part
    )
    assert shown == [(group["word"], str(group["count"])) for group in free_text["groups"]] and shown
    assert f"Odpowiedzi: 4; {free_text['ungrouped']} nie ma wspólnego słowa z inną." in part
    for secret in ("601 000 002", "jan.kowalski", *phones):
        assert secret not in page
    assert "Brakuje ławek, dzwońcie [" in part and "Lepsze oświetlenie" in part  # examples, numbers masked


async def test_downloads_are_offered_to_editors_not_to_viewers(services: Services, pages: Client) -> None:
    await add_resident(services, phone="+48601000001")
    await launch(services)
    await official(services, role="viewer", email="viewer@gdansk.gda.pl")
    await logged_in(pages, email="viewer@gdansk.gda.pl")
    page = await (await pages.get("/admin/campaigns/tramwaj-na-morene")).text()
    assert [link for link in DOWNLOADS if f"/tramwaj-na-morene/{link}" in page] == []
    await official(services, role="editor")
    await logged_in(pages)
    page = await (await pages.get("/admin/campaigns/tramwaj-na-morene")).text()
    assert [link for link in DOWNLOADS if f'href="/admin/campaigns/tramwaj-na-morene/{link}" download' in page] == [
        *DOWNLOADS
    ]


async def test_the_live_part_carries_every_results_section(services: Services, pages: Client) -> None:
    record = await answered_city(services, campaign=WEIGHTED_CITY)
    await official(services, role="viewer")
    await logged_in(pages)
    live = await (await pages.get(f"/admin/campaigns/{record.slug}/live")).text()
    assert "<html" not in live
    for heading in (
        "weighted-heading",
        "w-visits",
        "timeline-heading",
        "rate-channel-heading",
        "rate-district-heading",
        "free-text-heading",
    ):
        assert f'id="{heading}"' in live, heading


async def test_the_results_panels_are_kept_a_minute_the_counts_follow_at_once(
    services: Services, pages: Client, clock: ManualClock
) -> None:
    phones = [f"+4860100000{number}" for number in range(1, 7)]
    for phone in phones:
        await add_resident(services, phone=phone)
    await launch(services, FREE_TEXT)
    for phone in phones[:5]:
        await reply(services, phone, "Więcej ławek")
    await official(services, role="viewer")
    await logged_in(pages)
    first = await (await pages.get("/admin/campaigns/lawki/live")).text()
    assert "counted again at most once a minute" not in first and "Odpowiedzi: 5;" in first
    assert row(section(first, "rate-channel-heading"), "sms") == ["6", "5", "83%"]

    await reply(services, phones[5], "Więcej ławek")
    clock.now += timedelta(seconds=30)
    kept = await (await pages.get("/admin/campaigns/lawki/live?lang=en")).text()
    assert "Asked: 6, answered: 6 (100%)." in kept  # read on every refresh
    assert "as counted at 10:00:00 UTC" in kept and "5 answers;" in kept  # the groups as they were
    assert row(kept, "All")[0] == "5" and row(section(kept, "rate-channel-heading"), "sms") == ["6", "5", "83%"]

    clock.now += timedelta(seconds=31)
    later = await (await pages.get("/admin/campaigns/lawki/live?lang=en")).text()
    assert "6 answers;" in later and "counted again at most once a minute" not in later
    assert row(later, "All")[0] == "6" and row(section(later, "rate-channel-heading"), "sms") == ["6", "6", "100%"]


async def test_the_slow_figures_are_made_in_a_worker_thread_once_while_the_service_answers(
    services: Services, pages: Client
) -> None:
    await add_resident(services, phone="+48601000001")
    await launch(services, FREE_TEXT)
    await reply(services, "+48601000001", "Więcej ławek")
    await official(services, role="viewer")
    await logged_in(pages)
    made_in: list[int] = []
    entered, release = threading.Event(), threading.Event()

    def held_build(inputs: SlowInputs) -> SlowFigures:
        made_in.append(threading.get_ident())
        entered.set()
        release.wait(60)  # the test lets it go; the bound only ends a failing run
        return build_slow_figures(inputs)

    pages.app[SLOW_FIGURES].build = held_build
    views = [asyncio.create_task(pages.get("/admin/campaigns/lawki/live")) for _ in range(2)]
    try:
        assert await asyncio.to_thread(entered.wait, 60), "the slow figures were never made by the cache's build"
        # While the figures are held half made, the service still answers another request.
        other = await asyncio.wait_for(pages.get("/admin/"), 60)
        assert other.status == 200 and "lawki" in await other.text()
        assert not any(view.done() for view in views)
    finally:
        release.set()
    first, second = [section(await (await view).text(), "free-text-heading") for view in views]
    assert first == second and "Więcej ławek" in first
    assert made_in == [made_in[0]] and made_in[0] != threading.get_ident()  # once, not on the loop's thread
