"""The officials' pages in a real browser (issue 21): Debian's Chromium driven by Playwright for Python,
the service on a real socket, and an axe-core scan of every page.

Playwright's own browser download is not available here, so the browser is the system's
(`OUTREACH_TEST_CHROMIUM`, default /usr/bin/chromium: `.ci/run` installs it with apt). Without it these
tests skip and say why; with CI=true they fail instead."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, async_playwright, expect

from channels.sandbox import SandboxChannel
from flows.loader import load_campaign
from outreach.bootstrap import Services
from outreach.campaigns.commands import create_campaign
from outreach.officials.accounts import account_policy, add_official, set_password
from outreach.web.app import create_app
from storage.campaigns import CampaignRepository
from storage.db import read_session
from tests.conftest import DATABASES, ManualClock, unavailable
from tests.factories import add_resident
from tests.outreach.helpers import CAMPAIGN_YAML, launch, reply
from tests.outreach.results.weighted_fixture import answered_city
from tests.outreach.web.admin.test_preview_page import PREVIEWED
from tests.outreach.web.admin.test_preview_page import SLUG as PREVIEWED_SLUG
from tests.outreach.web.admin.test_results_panels import WEIGHTED_CITY

# The pages, not the store, are under test here: one database (the first configured) is enough.
pytestmark = pytest.mark.parametrize("database_url", [DATABASES[0]], indirect=True)
EMAIL = "anna.nowak@gdansk.gda.pl"
PASSWORD = "correct horse battery"
PHONE = "+48601000001"
SERIOUS = {"serious", "critical"}


def chromium_path() -> str:
    configured = os.environ.get("OUTREACH_TEST_CHROMIUM", "/usr/bin/chromium")
    found = configured if Path(configured).exists() else shutil.which("chromium")
    if found is None:
        unavailable(f"no Chromium at {configured} (apt-get install chromium; .ci/run does)")
    assert found is not None
    return found


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    executable = chromium_path()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield launched
        await launched.close()


@pytest.fixture
async def site(services: Services) -> AsyncIterator[str]:
    server = TestServer(create_app(services, run_background=False), host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("")).rstrip("/")
    await server.close()


async def serious_violations(page: Page) -> list[dict[str, Any]]:
    results = await Axe().run(page)
    violations: list[dict[str, Any]] = results.response["violations"]
    return [
        {"id": found["id"], "impact": found["impact"], "nodes": [node["target"] for node in found["nodes"]]}
        for found in violations
        if found["impact"] in SERIOUS
    ]


async def viewer_on(services: Services, browser: Browser, site: str, path: str) -> Page:
    """A viewer who logged in through the form (in Polish) and was sent on to `path`."""
    return await official_on(services, browser, site, path)


async def official_on(
    services: Services, browser: Browser, site: str, path: str, email: str = EMAIL, role: str = "viewer"
) -> Page:
    """An official of `role` who logged in through the form (in Polish), in a browser context of their
    own, and was sent on to `path`."""
    policy = account_policy(services.settings)
    token = await add_official(services.sessions, email, role, now=services.clock(), policy=policy)
    await set_password(services.sessions, token, PASSWORD, now=services.clock())
    page = await browser.new_page(locale="pl-PL")
    await page.goto(f"{site}/admin/login?next={path}")
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Hasło").fill(PASSWORD)
    await page.get_by_role("button", name="Zaloguj się").click()
    await page.wait_for_url(f"{site}{path}")
    return page


async def test_an_official_sets_a_password_logs_in_by_keyboard_and_sees_the_campaigns(
    services: Services, browser: Browser, site: str
) -> None:
    policy = account_policy(services.settings)
    token = await add_official(services.sessions, EMAIL, "editor", now=services.clock(), policy=policy)
    await create_campaign(services.sessions, load_campaign(CAMPAIGN_YAML), clock=services.clock)
    page = await browser.new_page(locale="pl-PL")
    scanned: dict[str, list[dict[str, Any]]] = {}

    await page.goto(f"{site}/admin/password/{token}")
    scanned["password"] = await serious_violations(page)
    await page.get_by_label("Nowe hasło").fill(PASSWORD)
    await page.get_by_label("Powtórz hasło").fill("something else entirely")
    await page.get_by_role("button", name="Ustaw hasło").click()
    error = page.locator("#password-error")
    assert await error.inner_text() == "hasła się różnią"
    assert await page.get_by_label("Nowe hasło").get_attribute("aria-invalid") == "true"
    scanned["password with an error"] = await serious_violations(page)
    await page.get_by_label("Nowe hasło").fill(PASSWORD)
    await page.get_by_label("Powtórz hasło").fill(PASSWORD)
    await page.get_by_role("button", name="Ustaw hasło").click()

    assert page.url.endswith("/admin/login?password_set=1")
    assert await page.get_by_role("status").inner_text() == "Hasło zostało ustawione. Zaloguj się nim."
    scanned["login"] = await serious_violations(page)
    # By keyboard only: the skip link first, then the language links, then the form's fields.
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent") == "Przejdź do treści"
    await page.get_by_label("E-mail").focus()
    await page.keyboard.type(EMAIL)
    await page.keyboard.press("Tab")
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"{site}/admin/")

    table = page.get_by_role("table")
    assert load_campaign(CAMPAIGN_YAML).name in await table.inner_text()
    assert await page.get_by_role("columnheader", name="Odsetek odpowiedzi").count() == 1
    scanned["campaigns"] = await serious_violations(page)
    await page.get_by_role("link", name="English").click()
    assert await page.get_by_role("heading", level=1).inner_text() == "Campaigns"
    scanned["campaigns in English"] = await serious_violations(page)

    await page.get_by_role("button", name="Log out").click()
    await page.wait_for_url(f"{site}/admin/login")
    await page.goto(f"{site}/admin/")
    assert page.url.startswith(f"{site}/admin/login")
    assert scanned == {name: [] for name in scanned}, scanned


async def test_a_wrong_password_is_announced_at_the_fields(services: Services, browser: Browser, site: str) -> None:
    policy = account_policy(services.settings)
    token = await add_official(services.sessions, EMAIL, "viewer", now=services.clock(), policy=policy)
    await set_password(services.sessions, token, PASSWORD, now=services.clock())
    page = await browser.new_page(locale="en-GB")
    await page.goto(f"{site}/admin/login")
    await page.get_by_label("E-mail").fill(EMAIL)
    await page.get_by_label("Password").fill("not the password")
    await page.get_by_role("button", name="Log in").click()
    alert = page.get_by_role("alert")
    assert await alert.inner_text() == "The e-mail or the password is wrong."
    assert await page.get_by_label("Password").get_attribute("aria-describedby") == "login-error"
    assert await serious_violations(page) == []

    # The scan's own positive control: a field without a label is a serious violation it reports.
    await page.set_content('<html lang="en"><head><title>t</title></head><body><main><input></main></body></html>')
    assert [found["id"] for found in await serious_violations(page)] == ["label"]


async def test_new_answers_appear_on_the_campaign_page_without_a_reload(
    services: Services, browser: Browser, site: str, clock: ManualClock
) -> None:
    await add_resident(services, phone=PHONE)
    await launch(services)
    page = await viewer_on(services, browser, site, "/admin/campaigns/tramwaj-na-morene")
    await expect(page.get_by_role("row", name="tak")).to_have_text("tak00%")
    # The response rate over time: asked 1, answered 0 in the launch's hour (the table beside the line).
    hour = page.get_by_role("row", name="2027-03-02 10:00")
    await expect(hour).to_have_text("2027-03-02 10:00100%")
    assert await serious_violations(page) == []

    await reply(services, PHONE, "tak")
    marker = await page.evaluate("window.notReloaded = true")
    clock.advance(seconds=61)  # the rates are counted again at most once a minute (results_panels)
    # The page refreshes its live part every 10 s; the test asks for the same refresh at once.
    await page.locator("[data-live]").dispatch_event("outreach:refresh")
    await expect(page.get_by_role("row", name="tak")).to_have_text("tak1100%")
    await expect(hour).to_have_text("2027-03-02 10:0011100%")  # the launch's hour, the minute after
    assert marker is True and await page.evaluate("window.notReloaded") is True


async def test_weighted_results_and_free_text_groups_pass_axe(services: Services, browser: Browser, site: str) -> None:
    record = await answered_city(services, campaign=WEIGHTED_CITY)
    page = await viewer_on(services, browser, site, f"/admin/campaigns/{record.slug}")
    weighted = page.get_by_role("table", name="Odsetki surowe i ważone, z marginesem błędu odsetka ważonego (±, 95%).")
    await expect(weighted.get_by_role("row", name="tak")).to_have_text("tak440.0%73.3%±39.0%")
    await expect(page.get_by_role("heading", name="Odpowiedzi tekstowe według wspólnych słów")).to_be_visible()
    assert await serious_violations(page) == []


async def test_the_preview_page_shows_bubbles_and_buttons_and_passes_axe(
    services: Services, browser: Browser, site: str
) -> None:
    await add_resident(services, phone=PHONE, telegram="5550001")
    await create_campaign(services.sessions, load_campaign(PREVIEWED), clock=services.clock)
    page = await viewer_on(services, browser, site, f"/admin/campaigns/{PREVIEWED_SLUG}/preview")
    telegram = page.get_by_role("region", name="Telegram · język pl")
    await expect(telegram.get_by_role("list", name="Przyciski").first).to_contain_text("w parku")
    await expect(page.get_by_role("region", name="SMS · język pl")).to_contain_text("kodowanie UCS-2")
    await expect(page.get_by_role("region", name="SMS · język en")).to_contain_text("kodowanie GSM-7")
    assert await serious_violations(page) == []


async def test_launch_needs_approval_by_a_second_official(services: Services, browser: Browser, site: str) -> None:
    services.settings.admin_approval_threshold = 1  # two residents make this launch a large one
    for number in range(2):
        await add_resident(services, phone=f"+4860100010{number}")
    await create_campaign(services.sessions, load_campaign(CAMPAIGN_YAML), clock=services.clock)
    campaign = "/admin/campaigns/tramwaj-na-morene"
    scanned: dict[str, list[dict[str, Any]]] = {}

    editor = await official_on(services, browser, site, campaign, "ewa@gdansk.gda.pl", "editor")
    await editor.get_by_role("link", name="Uruchom…").click()
    await expect(editor.locator("#launch-audience")).to_have_text("2")
    assert await editor.get_by_role("button", name="Uruchom", exact=True).count() == 0  # not before an approval
    await editor.get_by_role("button", name="Poproś o uruchomienie").click()
    await expect(editor.get_by_role("status")).to_have_text("Wniosek wysłany: decyzję podejmie osoba zatwierdzająca.")
    scanned["launch page, waiting"] = await serious_violations(editor)

    approver = await official_on(services, browser, site, "/admin/", "adam@gdansk.gda.pl", "approver")
    waiting = approver.get_by_role("region", name="Czeka na Twoje zatwierdzenie")
    await expect(waiting).to_contain_text("ewa@gdansk.gda.pl prosi o uruchomienie jej dla 2 mieszkańców.")
    scanned["campaigns with a request waiting"] = await serious_violations(approver)
    await waiting.get_by_role("link", name="Tramwaj na Morenę").click()
    await approver.get_by_label("Komentarz (nieobowiązkowy)").fill("Koszt w budżecie.")
    scanned["launch page, to decide"] = await serious_violations(approver)
    await approver.get_by_role("button", name="Zatwierdź").click()
    await expect(approver.get_by_role("status")).to_have_text("Uruchomienie zatwierdzone.")

    await editor.reload()
    await expect(editor.locator("#request-state")).to_contain_text("zatwierdził(a) adam@gdansk.gda.pl")
    await editor.get_by_role("button", name="Uruchom", exact=True).click()
    await editor.wait_for_url(f"{site}{campaign}?done=launch")
    await expect(editor.get_by_role("status")).to_have_text("Kampania jest uruchomiona.")
    assert scanned == {name: [] for name in scanned}, scanned


async def test_a_viewer_cannot_launch(services: Services, browser: Browser, site: str) -> None:
    await create_campaign(services.sessions, load_campaign(CAMPAIGN_YAML), clock=services.clock)
    page = await viewer_on(services, browser, site, "/admin/campaigns/tramwaj-na-morene")
    assert await page.get_by_role("link", name="Uruchom…").count() == 0
    response = await page.goto(f"{site}/admin/campaigns/tramwaj-na-morene/launch")
    assert response is not None and response.status == 403


async def test_an_editor_builds_a_three_question_campaign_sees_an_error_at_its_field_and_its_yaml(
    services: Services, browser: Browser, site: str
) -> None:
    page = await official_on(services, browser, site, "/admin/new-campaign", role="editor")
    scanned = {"new campaign": await serious_violations(page)}
    await page.locator("#f-name").fill("Ławki w parku")
    await page.locator("#f-languages").fill("pl")
    await page.locator("#f-questions-0-id").fill("visits")
    await page.locator("#f-questions-0-text-pl").fill("Czy bywasz w parku?")
    await page.get_by_role("button", name="Dodaj pytanie").click()  # a plain submit: the page comes back
    await page.locator("#f-questions-1-id").fill("place")
    await page.locator("#f-questions-1-type").select_option("choice")
    await page.get_by_role("button", name="Pokaż pola typu pytania 2").click()
    await page.locator("#f-questions-1-text-pl").fill("Gdzie postawić ławki?")
    await page.get_by_role("button", name="Dodaj odpowiedź do pytania 2").click()
    await page.get_by_role("button", name="Dodaj odpowiedź do pytania 2").click()
    for index, (key, text) in enumerate([("pond", "przy stawie"), ("gate", "przy bramie")]):
        await page.locator(f"#f-questions-1-options-{index}-key").fill(key)
        await page.locator(f"#f-questions-1-options-{index}-text-pl").fill(text)
    await page.get_by_role("button", name="Dodaj pytanie").click()
    await page.locator("#f-questions-2-id").fill("why")
    await page.locator("#f-questions-2-type").select_option("text")
    await page.locator("#f-questions-2-text-pl").fill("Dlaczego nie?")
    await page.locator("#f-questions-0-next").fill("no: nowhere")
    await page.get_by_role("button", name="Zapisz szkic").first.click()

    branch = page.locator("#f-questions-0-next")
    await expect(branch).to_have_attribute("aria-invalid", "true")
    described = await branch.get_attribute("aria-describedby") or ""
    assert "f-questions-0-next-error" in described.split()
    await expect(page.locator("#f-questions-0-next-error")).to_contain_text("nowhere")
    await expect(page.locator("#f-questions-1-options-1-text-pl")).to_have_value("przy bramie")  # nothing lost
    scanned["an error at its field"] = await serious_violations(page)
    await branch.fill("no: why")
    await page.get_by_role("button", name="Zapisz szkic").first.click()
    await page.wait_for_url(f"{site}/admin/campaigns/lawki-w-parku/edit?saved=1")
    await expect(page.get_by_role("status")).to_contain_text("Szkic zapisany.")
    scanned["a saved draft"] = await serious_violations(page)

    await page.get_by_role("button", name="YAML").click()
    yaml = await page.locator("#yaml").input_value()
    async with read_session(services.sessions) as session:
        record = await CampaignRepository(session).by_reference("lawki-w-parku")
    assert record is not None
    stored = services.definitions.flow(record)
    assert load_campaign(yaml) == stored and [q.id for q in stored.questions] == ["visits", "place", "why"]
    scanned["the YAML tab"] = await serious_violations(page)
    # A mistake in the YAML: saved, it is named by line and column, and its link selects that line.
    broken = yaml.replace("type: choice", "type: choise")
    await page.locator("#yaml").fill(broken)
    await page.get_by_role("button", name="Zapisz szkic").first.click()
    where = page.get_by_role("link", name=re.compile(r"wiersz \d+, kolumna \d+"))
    await where.wait_for()  # on the page the save rendered
    # editor.js is deferred: clicked before it ran (a busy machine), the link only jumps to the text.
    # Not wait_for_function: when its first check fails it polls with eval, which the pages' CSP refuses.
    await page.wait_for_load_state("load")
    await where.click()
    selection = "(() => { const t = document.getElementById('yaml'); return t.value.slice(t.selectionStart,"
    selected = await page.evaluate(selection + " t.selectionEnd); })()")
    assert selected == "choise" and await page.evaluate("document.activeElement.id") == "yaml"
    scanned["the YAML tab with a problem"] = await serious_violations(page)
    await page.locator("#yaml").fill(yaml)
    await page.get_by_role("button", name="Formularz").click()
    await expect(page.locator("#f-questions-1-options-0-key")).to_have_value("pond")
    assert scanned == {name: [] for name in scanned}, scanned


async def test_a_test_send_from_the_preview_reaches_the_sandbox(
    services: Services, browser: Browser, site: str
) -> None:
    await create_campaign(services.sessions, load_campaign(PREVIEWED), clock=services.clock)
    page = await official_on(services, browser, site, f"/admin/campaigns/{PREVIEWED_SLUG}/preview", role="editor")
    # Each radio button sits beside its label, not alone in the middle of a field-wide box.
    radio, label = (
        await page.locator("#test-all").bounding_box(),
        await page.locator("label[for=test-all]").bounding_box(),
    )
    assert radio is not None and label is not None
    assert radio["width"] < 32 and label["x"] - (radio["x"] + radio["width"]) < 16, (radio, label)
    await page.get_by_label("Kanał", exact=True).select_option("email")
    await page.get_by_role("button", name="Wyślij test").click()
    await expect(page.get_by_role("status")).to_contain_text("Wysłano wiadomości: 1")
    mailbox = services.channels["email"]
    assert isinstance(mailbox, SandboxChannel)
    [mail] = mailbox.inbox[EMAIL]
    assert mail.startswith("[TEST] ")
    assert await serious_violations(page) == []


async def test_the_privacy_notice_passes_axe_in_each_language(services: Services, browser: Browser, site: str) -> None:
    """Issue 20: the notice residents are linked to is accessible in each of its languages."""
    page = await browser.new_page()
    for language, links in (("pl", "Wersje językowe"), ("en", "Languages"), ("uk", "Мовні версії")):
        await page.goto(f"{site}/privacy/{language}")
        assert await page.locator("html").get_attribute("lang") == language
        await expect(page.get_by_role("heading", level=1)).to_have_count(1)
        # The other languages' links are named in the page's language (they were "language" on every page).
        await expect(page.get_by_role("navigation", name=links, exact=True)).to_have_count(1)
        assert await serious_violations(page) == [], language


async def test_an_admin_adds_and_deactivates_an_official_and_the_pages_pass_axe(
    services: Services, browser: Browser, site: str
) -> None:
    page = await official_on(services, browser, site, "/admin/officials", role="admin")
    added = "jan.kowalski-wisniewski@gdansk.gda.pl"  # long, as some are: it must wrap on a phone
    scanned = {"officials": await serious_violations(page)}
    await page.get_by_label("E-mail").fill(added)
    await page.get_by_label("Rola", exact=True).select_option("viewer")
    await page.get_by_role("button", name="Dodaj i pokaż link").click()
    shown = page.get_by_role("status")
    await expect(shown).to_contain_text(f"Jednorazowy link do ustawienia hasła dla {added}")
    await expect(shown.locator("code")).to_contain_text("/admin/password/")
    scanned["officials with a new link"] = await serious_violations(page)

    await page.get_by_role("row", name=re.compile(re.escape(added))).get_by_role("link", name="Wyłącz").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Wyłączyć konto {added}?")
    scanned["deactivate, to confirm"] = await serious_violations(page)
    # On a phone the heading's long e-mail address wraps instead of widening the page.
    await page.set_viewport_size({"width": 390, "height": 844})
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await page.set_viewport_size({"width": 1280, "height": 720})
    await page.get_by_role("button", name="Wyłącz").click()
    await expect(page.get_by_role("status")).to_have_text("Konto zostało wyłączone, a jego sesje zakończone.")
    assert await page.get_by_role("row", name=re.compile(re.escape(added))).get_by_role("link").count() == 0
    assert scanned == {name: [] for name in scanned}, scanned


async def test_export_downloads_and_a_csrf_less_post_is_refused(
    services: Services, browser: Browser, site: str, tmp_path: Path
) -> None:
    await add_resident(services, phone=PHONE)
    await launch(services)
    await reply(services, PHONE, "tak")
    campaign = "/admin/campaigns/tramwaj-na-morene"
    page = await official_on(services, browser, site, campaign, role="editor")

    async with page.expect_download() as started:
        await page.get_by_role("link", name="Odpowiedzi jako CSV").click()
    download = await started.value
    assert download.suggested_filename.endswith(".csv")
    saved = tmp_path / download.suggested_filename
    await download.save_as(saved)
    exported = saved.read_text(encoding="utf-8")
    assert "tramwaj-na-morene,uses_tram," in exported and ",yes,sms," in exported  # the answer "tak", as its key
    assert PHONE.lstrip("+") not in exported  # a pseudonym, not the resident's number

    await page.get_by_role("link", name="Zamknij").click()
    assert await serious_violations(page) == []  # the confirmation page
    # A form posted without its token, as another site's page would: refused, and the campaign stays open.
    await page.locator("main form input[name=csrf]").evaluate("field => field.remove()")
    async with page.expect_response(lambda response: response.request.method == "POST") as posted:
        await page.get_by_role("button", name="Zamknij").click()
    assert (await posted.value).status == 403
    await page.goto(f"{site}{campaign}")
    await expect(page.get_by_role("link", name="Zamknij")).to_have_count(1)
