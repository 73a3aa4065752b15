"""Every officials' page rendered in Polish asks the catalog only for texts it has (issue 21: pl and
en complete): the templates' own texts, and the ones handed to them from code (states, roles, errors,
effects, the editor's labels), which a scan of the templates' source cannot see.

Each page is rendered over a real socket; the Polish catalog gets a gettext fallback that notes every
text it lacked, so an English text left untranslated on a Polish page fails here, with its page."""

from __future__ import annotations

import ast
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from babel.support import NullTranslations

from flows.loader import load_campaign
from outreach.bootstrap import Services
from outreach.campaigns.commands import create_campaign
from outreach.web.admin import i18n
from outreach.web.app import create_app
from tests.conftest import DATABASES
from tests.factories import add_resident
from tests.outreach.helpers import launch, reply
from tests.outreach.web.admin.test_pages import Client, form_csrf, logged_in, official
from tests.outreach.web.admin.test_preview_page import PREVIEWED
from tests.outreach.web.admin.test_preview_page import SLUG as DRAFT

# The pages' texts, not the store, are under test here: one database (the first configured) is enough.
ONE_DATABASE = pytest.mark.parametrize("database_url", [DATABASES[0]], indirect=True)
SAME_IN_BOTH = {"E-mail"}  # texts whose Polish is the English
# A draft whose Polish SMS needs two UCS-2 segments and whose start has summer's offset in winter: the
# preview warns of both.
WARNED = """
name: Ławki na Oruni
languages: [pl]
channels: [sms]
schedule: {start: "2027-01-11T09:00:00+02:00"}
questions:
  - id: benches
    type: yesno
    text: {pl: "Czy w parku na Oruni powinno stanąć więcej ławek, także przy placu zabaw i wzdłuż ścieżek?"}
"""
# A draft asking a sample larger than its audience: its pages say the sample cannot be drawn.
OVERSAMPLED = """
name: Boisko na Oruni
languages: [pl]
channels: [sms]
audience:
  sample: {size: 50}
questions:
  - {id: pitch, type: yesno, text: {pl: "Czy potrzebne jest boisko?"}}
"""


class MissingTexts(NullTranslations):
    """The fallback the Polish catalog turns to for a text it lacks: it notes the text."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: set[str] = set()

    def gettext(self, message: str) -> str:
        self.texts.add(message)
        return message


@pytest.fixture
async def pages(services: Services) -> AsyncIterator[Client]:
    async with TestClient(TestServer(create_app(services, run_background=False), host="127.0.0.1")) as client:
        yield client


@pytest.fixture
def missing() -> Iterator[MissingTexts]:
    catalog = i18n.translations("pl")
    noted = MissingTexts()
    catalog.add_fallback(noted)
    yield noted
    catalog._fallback = None  # the catalog is cached for the process: the next test gets it as it was


@ONE_DATABASE
async def test_every_page_in_polish_has_each_text_in_the_catalog(
    services: Services, pages: Client, missing: MissingTexts
) -> None:
    await add_resident(services, phone="+48601000001")
    await launch(services)
    await reply(services, "+48601000001", "tak")
    await create_campaign(services.sessions, load_campaign(PREVIEWED), clock=services.clock)
    warned = await create_campaign(services.sessions, load_campaign(WARNED), clock=services.clock)
    oversampled = await create_campaign(services.sessions, load_campaign(OVERSAMPLED), clock=services.clock)
    await official(services, role="admin")
    pages.session.cookie_jar.update_cookies({i18n.COOKIE: "pl"})
    untranslated: dict[str, set[str]] = {}

    async def visit(path: str, status: int = 200) -> None:
        response = await pages.get(path)
        assert response.status == status, path
        texts = missing.texts - SAME_IN_BOTH
        if texts:
            untranslated[path] = set(texts)
        missing.texts.clear()

    await visit("/admin/login")
    await visit("/admin/password/not-a-token", 404)
    refused = await logged_in(pages, password="not the password")
    assert refused.status == 401
    await visit("/admin/login")
    assert (await logged_in(pages)).status == 303
    campaign, draft = "/admin/campaigns/tramwaj-na-morene", f"/admin/campaigns/{DRAFT}"
    for path in ("/admin/", campaign, f"{campaign}/live", f"{campaign}/preview", f"{campaign}/pause"):
        await visit(path)
    for path in (f"{campaign}/close", f"{draft}/launch", f"{draft}/edit", f"{draft}/edit?tab=yaml"):
        await visit(path)
    for path in ("/admin/new-campaign", "/admin/officials", "/admin/officials/1/deactivate"):
        await visit(path)
    # The preview's warnings, in Polish.
    preview = await (await pages.get(f"/admin/campaigns/{warned.slug}/preview")).text()
    assert "pl: benches (pierwsza wiadomość, ze wstępem) — segmenty SMS: 2 (UCS-2" in preview
    assert "zmienia cały SMS na UCS-2" in preview
    assert "tego dnia Gdańsk (Europe/Warsaw) ma przesunięcie +01:00" in preview
    note_missing(untranslated, missing, "preview with warnings")
    # A sample that cannot be drawn, on the preview and the launch page.
    for page in ("preview", "launch"):
        shown = await (await pages.get(f"/admin/campaigns/{oversampled.slug}/{page}")).text()
        assert "audience.sample.size: 50 to więcej niż liczba mieszkańców" in shown, page
        note_missing(untranslated, missing, f"{page} with a sample error")
    csrf = await form_csrf(pages, f"/admin/campaigns/{oversampled.slug}/launch")
    refused_draw = await pages.post(f"/admin/campaigns/{oversampled.slug}/launch", data={"csrf": csrf})
    assert refused_draw.status == 409
    said = f"kampania „{oversampled.slug}”: audience.sample.size: 50 to więcej niż"
    assert said in await refused_draw.text()
    note_missing(untranslated, missing, "launch refused for its sample")
    # A command the campaign's state refuses: a draft cannot be paused.
    csrf = await form_csrf(pages, f"{draft}/pause")
    refused_pause = await pages.post(f"{draft}/pause", data={"csrf": csrf})
    assert refused_pause.status == 409
    assert "nie można wstrzymać: jej stan to „szkic”" in await refused_pause.text()
    note_missing(untranslated, missing, "pause refused")
    # A form sent back with an error at its field.
    csrf = await form_csrf(pages, "/admin/new-campaign")
    form = {"csrf": csrf, "name": "Park", "languages": "pl", "questions[0].id": "visits", "questions[0].type": "yesno"}
    sent = await pages.post("/admin/new-campaign", data=form | {"questions[0].text.pl": ""})
    sent_back = await sent.text()
    assert 'aria-invalid="true"' in sent_back
    at_field = '<span class="error" id="f-questions-0-text-pl-error">questions[0]: brak wymaganego klucza „text”</span>'
    assert at_field in sent_back
    note_missing(untranslated, missing, "new campaign, sent back")
    # The YAML tab with a problem our checks find (an empty text), at its line.
    empty = PREVIEWED.replace('"Czy pomożesz sadzić?"', '" "')
    yaml_tab = {"csrf": csrf, "tab": "yaml", "action": "save", "yaml": empty}
    sent = await pages.post("/admin/new-campaign", data=yaml_tab)
    assert '<span class="error">questions[1].text.pl: tekst w języku pl jest pusty</span>' in await sent.text()
    note_missing(untranslated, missing, "new campaign, YAML tab sent back")
    # A launch the campaign's state refuses: it is closed.
    csrf = await form_csrf(pages, f"{campaign}/close")
    assert (await pages.post(f"{campaign}/close", data={"csrf": csrf}, allow_redirects=False)).status == 303
    refused_launch = await pages.post(f"{campaign}/launch", data={"csrf": csrf})
    assert refused_launch.status == 409
    assert "jest zamknięta i nie można jej uruchomić ponownie" in await refused_launch.text()
    note_missing(untranslated, missing, "launch refused")
    assert untranslated == {}, untranslated


def note_missing(untranslated: dict[str, set[str]], missing: MissingTexts, page: str) -> None:
    if texts := missing.texts - SAME_IN_BOTH:
        untranslated[page] = set(texts)
    missing.texts.clear()


def test_the_fallback_notes_a_text_the_catalog_lacks(missing: MissingTexts) -> None:
    catalog = i18n.translations("pl")
    assert catalog.gettext("Campaigns") == "Kampanie" and missing.texts == set()
    assert catalog.gettext("A text nobody translated") == "A text nobody translated"
    assert missing.texts == {"A text nobody translated"}


# The modules whose warnings and errors carry an Explanation (its template is a msgid of the catalog).
EXPLAINING = (
    "flows/loader.py",
    "flows/preview.py",
    "flows/question_rules.py",
    "flows/results_back_rules.py",
    "flows/validate.py",
    "outreach/campaigns/checks.py",
    "outreach/campaigns/commands.py",
    "outreach/campaigns/drafts.py",
    "outreach/campaigns/launch_approval.py",
    "outreach/survey/sampling.py",
    "outreach/web/admin/campaign_form.py",
)


def explained_templates(source: str) -> list[str]:
    """The templates given to Explanation(code, template, …) and Problem.explained(path, code, template, …),
    written out, as a module constant, or picked from a module constant's dict (every value of it)."""
    tree = ast.parse(source)
    constants: dict[str, list[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                continue
            if isinstance(value, str):
                constants[node.targets[0].id] = [value]
            elif isinstance(value, dict):
                constants[node.targets[0].id] = [text for text in value.values() if isinstance(text, str)]
    templates = []
    for call in ast.walk(tree):
        if not isinstance(call, ast.Call):
            continue
        called = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
        position = {"Explanation": 1, "explained": 2}.get(called)
        if position is None:
            continue
        written = call.args[position]
        if isinstance(written, ast.Subscript) and isinstance(written.value, ast.Name):
            templates.extend(constants[written.value.id])
        elif isinstance(written, ast.Name):
            templates.extend(constants[written.id])
        else:
            templates.append(ast.literal_eval(written))
    return templates


def test_every_explained_warning_and_error_has_its_polish(missing: MissingTexts) -> None:
    root = Path(__file__).parents[4]
    templates = [t for module in EXPLAINING for t in explained_templates((root / module).read_text(encoding="utf-8"))]
    assert len(templates) >= 85  # the scan finds them (a wrong path or call name would find none)
    catalog = i18n.translations("pl")
    for template in templates:
        catalog.gettext(template)
    assert missing.texts == set()
