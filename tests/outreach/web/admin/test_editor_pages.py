"""The campaign editor over a real socket (issue 21): a campaign built in the form is stored as the
loader reads its YAML, problems show at their fields (aria-describedby) or at their lines in the YAML
tab, only drafts change, and every form needs its CSRF token."""

from __future__ import annotations

import html
import re

from flows.loader import load_campaign
from outreach.bootstrap import Services
from outreach.campaigns.commands import create_campaign
from storage.audit import AuditFilter, AuditRepository
from storage.campaigns import CampaignRepository
from storage.db import read_session
from tests.factories import add_resident
from tests.outreach.helpers import CAMPAIGN_YAML
from tests.outreach.web.admin.test_pages import CSRF, Client, logged_in, official
from tests.outreach.web.admin.test_pages import pages as pages  # the fixture

THREE_QUESTIONS = {
    "name": "Ławki na Oruni",
    "languages": "pl, en",
    "channels": "sms, email",
    "questions[0].id": "visits",
    "questions[0].type": "yesno",
    "questions[0].text.pl": "Czy bywasz w parku?",
    "questions[0].text.en": "Do you visit the park?",
    "questions[0].next": "no: why, other: benches",
    "questions[1].id": "benches",
    "questions[1].type": "choice",
    "questions[1].text.pl": "Gdzie ławki?",
    "questions[1].text.en": "Where should benches go?",
    "questions[1].options[0].key": "pond",
    "questions[1].options[0].text.pl": "przy stawie",
    "questions[1].options[0].text.en": "by the pond",
    "questions[1].options[0].synonyms": "staw, pond",
    "questions[1].options[1].key": "gate",
    "questions[1].options[1].text.pl": "przy bramie",
    "questions[1].options[1].text.en": "by the gate",
    "questions[1].next": "end",
    "questions[2].id": "why",
    "questions[2].type": "text",
    "questions[2].text.pl": "Dlaczego nie?",
    "questions[2].text.en": "Why not?",
    "audience.sample.allocation": "proportional",
    "reminders.strategy": "uniform",
    "schedule.reminders": "24h",
    "answer_within": "48h",
}


async def editor(services: Services, pages: Client, role: str = "editor") -> str:
    await official(services, role=role)
    assert (await logged_in(pages)).status == 303
    page = await (await pages.get("/admin/new-campaign")).text()
    match = CSRF.search(page)
    assert match
    return match.group(1)


async def test_a_campaign_built_in_the_form_is_stored_as_its_yaml_reads(services: Services, pages: Client) -> None:
    csrf = await editor(services, pages)
    sent = {"csrf": csrf, "tab": "form", "action": "save", **THREE_QUESTIONS}
    response = await pages.post("/admin/new-campaign", data=sent, allow_redirects=False)
    assert (response.status, response.headers["Location"]) == (303, "/admin/campaigns/lawki-na-oruni/edit?saved=1")
    async with read_session(services.sessions) as session:
        record = await CampaignRepository(session).by_reference("lawki-na-oruni")
        entries = await AuditRepository(session).page(AuditFilter(), before_id=None, limit=50)
    assert record is not None and record.status == "draft"
    flow = services.definitions.flow(record)
    assert [question.id for question in flow.questions] == ["visits", "benches", "why"]
    assert flow.questions[0].next == {"no": "why", "other": "benches"}
    assert flow.questions[1].options[0].synonyms == ["staw", "pond"]
    assert flow.privacy_notice is not None  # the service's, as `campaign create` adds it
    assert "campaign.create" in [entry.action for entry in entries]

    page = await (await pages.get("/admin/campaigns/lawki-na-oruni/edit?saved=1")).text()
    assert 'value="no: why, other: benches"' in page and "Szkic zapisany." in page
    assert 'id="matching-count"' in page  # whom a launch now would ask


async def test_a_loader_problem_shows_at_its_field(services: Services, pages: Client) -> None:
    csrf = await editor(services, pages)
    wrong = THREE_QUESTIONS | {"questions[1].options[1].key": "pond", "questions[0].next": "no: nowhere"}
    sent = {"csrf": csrf, "tab": "form", "action": "save", **wrong}
    response = await pages.post("/admin/new-campaign?lang=en", data=sent)
    page = await response.text()
    assert response.status == 422
    field = re.search(r'<input type="text" id="f-questions-0-next"[^>]*>', page)
    assert field and 'aria-describedby="f-questions-0-next-hint f-questions-0-next-error"' in field.group(0)
    assert 'aria-invalid="true"' in field.group(0)
    error = re.search(r'id="f-questions-0-next-error"[^>]*>([^<]*)<', page)
    assert error and "nowhere" in error.group(1)
    assert re.search(r'id="f-questions-1-options-1-key-error"[^>]*>[^<]*pond', page)
    # What was typed stays in the form.
    assert 'value="przy bramie"' in page
    async with read_session(services.sessions) as session:
        assert await CampaignRepository(session).all() == []


async def test_the_yaml_tab_shows_the_same_campaign_and_its_problems_at_their_lines(
    services: Services, pages: Client
) -> None:
    csrf = await editor(services, pages)
    sent = {"csrf": csrf, "tab": "form", "action": "yaml", **THREE_QUESTIONS}
    page = await (await pages.post("/admin/new-campaign", data=sent)).text()
    text = re.search(r'<textarea id="yaml"[^>]*>(.*?)</textarea>', page, re.S)
    assert text
    yaml = html.unescape(text.group(1))
    assert [question.id for question in load_campaign(yaml).questions] == ["visits", "benches", "why"]

    broken = yaml.replace("type: choice", "type: choise")
    line, written = next((number, row) for number, row in enumerate(broken.splitlines(), 1) if "choise" in row)
    response = await pages.post(
        "/admin/new-campaign", data={"csrf": csrf, "tab": "yaml", "action": "save", "yaml": broken}
    )
    page = await response.text()
    assert response.status == 422
    assert f"wiersz {line}, kolumna {written.index('choise') + 1}" in page and "choise" in page

    back = await pages.post("/admin/new-campaign", data={"csrf": csrf, "tab": "yaml", "action": "form", "yaml": yaml})
    form = await back.text()
    assert 'value="no: why, other: benches"' in form and 'value="staw, pond"' in form


async def test_adding_and_removing_questions_and_options_keeps_what_was_typed(
    services: Services, pages: Client
) -> None:
    csrf = await editor(services, pages)
    sent = {"csrf": csrf, "tab": "form", "action": "add_option:1", **THREE_QUESTIONS}
    page = await (await pages.post("/admin/new-campaign", data=sent)).text()
    assert 'name="questions[1].options[2].key"' in page and 'value="przy bramie"' in page
    sent = {"csrf": csrf, "tab": "form", "action": "remove_question:0", **THREE_QUESTIONS}
    page = await (await pages.post("/admin/new-campaign", data=sent)).text()
    assert 'name="questions[0].id" value="benches"' in page and 'name="questions[2].id"' not in page


async def test_only_a_draft_is_edited_and_only_with_the_forms_token(services: Services, pages: Client) -> None:
    csrf = await editor(services, pages)
    record = await create_campaign(services.sessions, load_campaign(CAMPAIGN_YAML), clock=services.clock)
    edit = f"/admin/campaigns/{record.slug}/edit"
    assert (await pages.get(edit)).status == 200
    no_token = await pages.post(edit, data={"tab": "form", "action": "save", **THREE_QUESTIONS})
    assert no_token.status == 403
    async with services.sessions() as session, session.begin():
        await CampaignRepository(session).set_status(record.id or 0, "active", now=services.clock())
    assert (await pages.get(edit)).status == 409
    refused = await pages.post(edit, data={"csrf": csrf, "tab": "form", "action": "save", **THREE_QUESTIONS})
    assert refused.status == 409


async def test_a_draft_saved_again_changes_in_place_and_is_audited(services: Services, pages: Client) -> None:
    csrf = await editor(services, pages)
    sent = {"csrf": csrf, "tab": "form", "action": "save", **THREE_QUESTIONS}
    await pages.post("/admin/new-campaign", data=sent, allow_redirects=False)
    async with read_session(services.sessions) as session:
        first = await CampaignRepository(session).by_reference("lawki-na-oruni")
    assert first is not None and services.definitions.flow(first).questions[2].text["en"] == "Why not?"  # cached
    again = sent | {"questions[2].text.en": "Why not? A few words."}
    response = await pages.post("/admin/campaigns/lawki-na-oruni/edit", data=again, allow_redirects=False)
    assert response.status == 303
    async with read_session(services.sessions) as session:
        record = await CampaignRepository(session).by_reference("lawki-na-oruni")
        actions = [
            entry.action for entry in await AuditRepository(session).page(AuditFilter(), before_id=None, limit=50)
        ]
    assert record is not None
    assert services.definitions.flow(record).questions[2].text["en"] == "Why not? A few words."
    assert "campaign.edit" in actions


async def test_a_viewer_cannot_open_the_editor(services: Services, pages: Client) -> None:
    await official(services, role="viewer")
    await logged_in(pages)
    assert (await pages.get("/admin/new-campaign")).status == 403


async def test_the_audience_is_counted_before_the_campaign_is_saved(services: Services, pages: Client) -> None:
    await add_resident(services, phone="+48601000001", district="Oliwa")
    await add_resident(services, phone="+48601000002", district="Oliwa")
    await add_resident(services, phone="+48601000003", district="Wrzeszcz")
    csrf = await editor(services, pages)
    sampled = THREE_QUESTIONS | {
        "audience.where": "district: Oliwa, Wrzeszcz",
        "audience.sample.size": "2",
        "audience.sample.strata": "district",
        "audience.sample.allocation": "equal",
    }
    sent = {"csrf": csrf, "tab": "form", "action": "audience", **sampled}
    page = await (await pages.post("/admin/new-campaign?lang=en", data=sent)).text()
    assert re.search(r'id="matching-count">2 residents; 0 held back', page)
    rows = re.findall(
        r'<tr><th scope="row">([^<]+)</th><td class="number">(\d+)</td><td class="number">(\d+)</td>', page
    )
    assert sorted((stratum, eligible) for stratum, eligible, _ in rows) == [("Oliwa", "2"), ("Wrzeszcz", "1")]
    assert ">district: Oliwa, Wrzeszcz</textarea>" in page
    async with read_session(services.sessions) as session:
        assert await CampaignRepository(session).all() == []  # counted, not saved


async def test_a_problem_in_the_more_yaml_shows_at_that_field(services: Services, pages: Client) -> None:
    csrf = await editor(services, pages)
    more = "whatsapp: {content_sid: HX-not-a-template}"
    sent = {"csrf": csrf, "tab": "form", "action": "save", **THREE_QUESTIONS, "more": more}
    response = await pages.post("/admin/new-campaign", data=sent)
    page = await response.text()
    assert response.status == 422
    assert re.search(r'id="f-more-error"[^>]*>[^<]*content_sid', page)
