"""The three kinds of messages that were English on Polish pages (issue 21) are said in Polish: pydantic's
messages about a value (in the form and the YAML tab), YAML syntax errors (line and column kept), and
a margins' problem (a sample's margins that do not exist, a stratum they lack); each without a text the
catalog lacks, and none marked lang="en". English pages keep the English."""

from __future__ import annotations

import html
import re

from flows.loader import load_campaign
from outreach.bootstrap import Services
from outreach.campaigns.commands import create_campaign
from outreach.web.admin import i18n
from tests.outreach.web.admin.test_editor_pages import THREE_QUESTIONS, editor
from tests.outreach.web.admin.test_pages import Client
from tests.outreach.web.admin.test_pages import pages as pages  # the fixture
from tests.outreach.web.admin.test_polish_pages import ONE_DATABASE, MissingTexts
from tests.outreach.web.admin.test_polish_pages import missing as missing  # the fixture

CAMPAIGN = """name: Park
languages: [pl]
channels: [sms]
reask_unclear: 7
questions:
  - {id: visits, type: yesno, text: {pl: "Czy bywasz w parku?"}}
  - {id: benches, type: bogus, text: {pl: "Gdzie ławki?"}}
"""
# A tab where a value was meant: YAML's "could not find expected ':'" inside the key on line 2.
SYNTAX = "name: Park\nlanguages [pl]\nchannels: [sms]\n"
UNKNOWN_MARGINS = """
name: Próba
languages: [pl]
channels: [sms]
audience:
  sample: {size: 1, strata: [district], margins: no-such-margins}
questions:
  - {id: pitch, type: yesno, text: {pl: "Czy potrzebne jest boisko?"}}
"""


def shown(page: str) -> str:
    """The page's text as read (entities decoded, tags kept)."""
    return html.unescape(page)


def errors_in_english(page: str) -> list[str]:
    return re.findall(r'<(?:span|li|p)[^>]*class="error"[^>]*lang="en"[^>]*>[^<]*', page)


async def yaml_tab(pages: Client, csrf: str, text: str, language: str) -> str:
    sent = {"csrf": csrf, "tab": "yaml", "action": "save", "yaml": text}
    response = await pages.post(f"/admin/new-campaign?lang={language}", data=sent)
    assert response.status == 422
    return await response.text()


@ONE_DATABASE
async def test_a_value_pydantic_refuses_is_said_in_polish_in_the_form_and_the_yaml_tab(
    services: Services, pages: Client, missing: MissingTexts
) -> None:
    csrf = await editor(services, pages)
    sent = {"csrf": csrf, "tab": "form", "action": "save", **THREE_QUESTIONS, "reask_unclear": "dużo"}
    form = await (await pages.post("/admin/new-campaign?lang=pl", data=sent)).text()
    polish = "wartość musi być liczbą całkowitą; tego tekstu nie da się odczytać jako liczby całkowitej"
    assert f'<span class="error" id="f-reask_unclear-error">{polish}</span>' in form
    assert errors_in_english(form) == []
    more = shown(await (await pages.post("/admin/new-campaign?lang=pl", data=sent | {"more": "whatsapp: ["})).text())
    said = "wiersz 1, kolumna 12: błąd składni YAML: oczekiwano wartości, a jest '<stream end>'"
    assert f'<span class="error" id="f-more-error">{said}' in more

    page = shown(await yaml_tab(pages, csrf, CAMPAIGN, "pl"))
    assert '<span class="error">reask_unclear: wartość musi być mniejsza lub równa 3</span>' in page
    choices = "'yesno', 'choice', 'multi', 'scale', 'number' lub 'text'"
    assert f'<span class="error">questions[1].type: dozwolona wartość: {choices}</span>' in page
    assert "wiersz 4, kolumna 16" in page  # the pointer is as it was
    assert errors_in_english(page) == [] and missing.texts == set()

    english = shown(await yaml_tab(pages, csrf, CAMPAIGN, "en"))
    assert "reask_unclear: Input should be less than or equal to 3" in english
    assert "questions[1].type: Input should be 'yesno', 'choice', 'multi', 'scale', 'number' or 'text'" in english


@ONE_DATABASE
async def test_a_yaml_syntax_error_is_said_in_polish_at_its_line(
    services: Services, pages: Client, missing: MissingTexts
) -> None:
    csrf = await editor(services, pages)
    page = shown(await yaml_tab(pages, csrf, SYNTAX, "pl"))
    assert "wiersz 3, kolumna 1" in page
    said = "błąd składni YAML: brak oczekiwanego dwukropka (klucz: wartość) (w kluczu od wiersza 2, kolumny 1)"
    assert f'<span class="error">{said}</span>' in page
    assert errors_in_english(page) == [] and missing.texts == set()

    english = shown(await yaml_tab(pages, csrf, SYNTAX, "en"))
    assert (
        "YAML syntax error: could not find expected ':' (while scanning a simple key that starts at line 2" in english
    )


@ONE_DATABASE
async def test_a_problem_the_yaml_library_words_otherwise_stays_english(services: Services, pages: Client) -> None:
    csrf = await editor(services, pages)
    # A directive's problem: a rare one, not in flows.yaml_syntax's table.
    page = shown(await yaml_tab(pages, csrf, "%YAML 1.2 x\n---\nname: Park\n", "pl"))
    assert re.search(r'<span class="error" lang="en">YAML syntax error: expected', page)


@ONE_DATABASE
async def test_a_margins_problem_is_said_in_polish(services: Services, pages: Client, missing: MissingTexts) -> None:
    draft = await create_campaign(services.sessions, load_campaign(UNKNOWN_MARGINS), clock=services.clock)
    await editor(services, pages, role="admin")
    pages.session.cookie_jar.update_cookies({i18n.COOKIE: "pl"})
    for page in ("preview", "launch"):
        said = shown(await (await pages.get(f"/admin/campaigns/{draft.slug}/{page}")).text())
        assert "audience.sample.margins: nie ma rozkładów o nazwie 'no-such-margins'" in said, page
        assert '<span lang="en">' not in said
    assert missing.texts == set()
    english = shown(await (await pages.get(f"/admin/campaigns/{draft.slug}/preview?lang=en")).text())
    assert "audience.sample.margins: no margins named 'no-such-margins'" in english
