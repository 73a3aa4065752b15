"""The campaign editor keeps a campaign's YAML comments (issue 21): a draft created from a commented file
and saved through the form as a browser sends it keeps every comment byte for byte, a change keeps the
others, a removed question takes its own, and the stored definition is what writing the form's YAML
anew stores."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Any

import pytest

from flows.campaign_text import campaign_yaml
from flows.loader import load_campaign
from outreach.bootstrap import Services
from outreach.campaigns.commands import create_campaign
from outreach.web.admin.campaign_form import document_of
from outreach.web.admin.editor_pages import BASE
from storage.campaigns import CampaignRepository
from storage.db import read_session
from storage.tables import CampaignRecord
from tests.flows.test_campaign_text import COMMENTED, comments
from tests.outreach.web.admin.test_editor_pages import editor
from tests.outreach.web.admin.test_pages import Client
from tests.outreach.web.admin.test_pages import pages as pages  # the fixture

EDIT, NEW = "/admin/campaigns/lawki-na-oruni/edit", "/admin/new-campaign"
OWN = ("csrf", "tab", "action", "yaml")


class _Form(HTMLParser):
    """The fields a browser sends for the editor's form as the page shows it: text and hidden inputs,
    checked boxes, textareas and each select's selected option (else its first)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        name = named.get("name") or ""
        if tag == "input" and named.get("type") in ("text", "hidden"):
            self.fields[name] = named.get("value") or ""
        elif tag == "input" and named.get("type") == "checkbox" and "checked" in named:
            self.fields[name] = named.get("value") or "on"
        elif tag == "textarea":
            self._textarea, self.fields[name] = name, ""
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select is not None and (self._select not in self.fields or "selected" in named):
            self.fields[self._select] = named.get("value") or ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None


def form_of(page: str) -> dict[str, str]:
    reader = _Form()
    reader.feed(page)
    return {name: value for name, value in reader.fields.items() if name and name not in OWN}


async def commented_draft(services: Services) -> CampaignRecord:
    """A draft as `campaign create` stores it from the commented file."""
    notice = services.settings.privacy_notice()
    flow = load_campaign(COMMENTED)
    return await create_campaign(services.sessions, flow, clock=services.clock, notice=notice, source=COMMENTED)


async def stored(services: Services) -> CampaignRecord:
    async with read_session(services.sessions) as session:
        record = await CampaignRepository(session).by_reference("lawki-na-oruni")
    assert record is not None
    return record


def written_anew(services: Services, fields: dict[str, str]) -> dict[str, Any]:
    """The definition the editor stored before it kept comments: the form's YAML written anew."""
    typed = [(name, value) for name, value in fields.items() if name != BASE]
    flow = services.settings.privacy_notice().on(load_campaign(campaign_yaml(document_of(typed).document)))
    return flow.model_dump(mode="json", exclude_unset=True)


async def saved(pages: Client, csrf: str, fields: dict[str, str]) -> None:
    sent = {"csrf": csrf, "tab": "form", "action": "save", **fields}
    response = await pages.post(EDIT, data=sent, allow_redirects=False)
    assert response.status == 303, await response.text()


async def test_a_form_saved_unchanged_keeps_the_yaml_byte_for_byte(services: Services, pages: Client) -> None:
    csrf = await editor(services, pages)
    before = await commented_draft(services)
    assert before.source is not None and comments(before.source) == comments(COMMENTED)
    shown = await (await pages.get(f"{EDIT}?tab=yaml")).text()
    textarea = re.search(r'<textarea id="yaml"[^>]*>(.*?)</textarea>', shown, re.S)
    assert textarea and html.unescape(textarea.group(1)) == before.source  # the YAML tab shows it

    fields = form_of(await (await pages.get(EDIT)).text())
    await saved(pages, csrf, fields)
    after = await stored(services)
    assert after.source == before.source
    assert after.definition == before.definition == written_anew(services, fields)


async def test_a_changed_question_keeps_every_comment(services: Services, pages: Client) -> None:
    csrf = await editor(services, pages)
    await commented_draft(services)
    fields = form_of(await (await pages.get(EDIT)).text())
    fields["questions[0].text.pl"] = "Czy bywasz w Parku Oruńskim?"
    await saved(pages, csrf, fields)
    after = await stored(services)
    assert after.source is not None and comments(after.source) == comments(COMMENTED)
    assert '      pl: "Czy bywasz w Parku Oruńskim?" # as the council wrote it\n' in after.source
    assert after.definition == written_anew(services, fields)


async def test_a_removed_question_takes_its_comments_only(services: Services, pages: Client) -> None:
    csrf = await editor(services, pages)
    await commented_draft(services)
    fields = form_of(await (await pages.get(EDIT)).text())
    removing = {"csrf": csrf, "tab": "form", "action": "remove_question:1", **fields}
    fields = form_of(await (await pages.post(EDIT, data=removing)).text())  # the form without it
    fields["questions[0].next"] = "no: why"
    await saved(pages, csrf, fields)
    after = await stored(services)
    assert after.source is not None
    gone = ["# Where the benches go.", "# The pond is the favourite.", "# by the water", "# The gate is the other."]
    assert comments(after.source) == [comment for comment in comments(COMMENTED) if comment not in gone]
    assert after.definition == written_anew(services, fields)
    assert [question["id"] for question in after.definition["questions"]] == ["visits", "why"]


@pytest.mark.parametrize("saved_first", [True, False], ids=["saved", "switched"])
async def test_comments_typed_in_the_yaml_tab_survive_the_form(
    services: Services, pages: Client, saved_first: bool
) -> None:
    """Saved from the YAML tab, or only switched to the form (the form carries the typed YAML)."""
    csrf = await editor(services, pages)
    before = await commented_draft(services)
    assert before.source is not None
    channels = "channels: [sms, email]\n"
    typed = before.source.replace(channels, f"# SMS first: most have no Telegram.\n{channels}")
    if saved_first:
        response = await pages.post(EDIT, data={"csrf": csrf, "tab": "yaml", "action": "save", "yaml": typed})
        assert response.status == 200  # followed to the saved draft
        fields = form_of(await (await pages.get(EDIT)).text())
    else:
        switched = await pages.post(EDIT, data={"csrf": csrf, "tab": "yaml", "action": "form", "yaml": typed})
        fields = form_of(await switched.text())
        assert fields[BASE] == typed
    fields["answer_within"] = "3d"
    await saved(pages, csrf, fields)
    after = await stored(services)
    assert after.source == typed.replace("answer_within: 48h  #", "answer_within: 3d   #")
    assert after.definition == written_anew(services, fields)


async def test_a_new_campaign_keeps_the_comments_of_the_yaml_it_was_typed_as(services: Services, pages: Client) -> None:
    csrf = await editor(services, pages)
    switched = await pages.post(NEW, data={"csrf": csrf, "tab": "yaml", "action": "form", "yaml": COMMENTED})
    fields = form_of(await switched.text())
    response = await pages.post(NEW, data={"csrf": csrf, "tab": "form", "action": "save", **fields})
    assert response.status == 200  # followed to the new draft
    after = await stored(services)
    assert after.source is not None and comments(after.source) == comments(COMMENTED)
    assert after.definition == written_anew(services, fields)


async def test_a_draft_without_kept_yaml_is_written_anew_as_before(services: Services, pages: Client) -> None:
    csrf = await editor(services, pages)
    notice = services.settings.privacy_notice()
    await create_campaign(services.sessions, load_campaign(COMMENTED), clock=services.clock, notice=notice)
    fields = form_of(await (await pages.get(EDIT)).text())
    await saved(pages, csrf, fields)
    after = await stored(services)
    assert after.source == campaign_yaml(after.definition)
    assert after.definition == written_anew(services, fields)
