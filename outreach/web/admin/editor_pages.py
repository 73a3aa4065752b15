"""The campaign editor (issue 21): a form for a new campaign or a draft, and a YAML tab with the same
campaign as the file the CLI takes. Both are checked by the CLI's own loader (flows.loader) on the
YAML the form makes (outreach.web.admin.campaign_form); its problems show at their fields, or at
their lines in the YAML tab. Every button is a plain submit (adding a question re-renders the page),
so the editor works without JavaScript."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from flows.campaign import Campaign
from flows.campaign_text import campaign_yaml, edited_yaml
from flows.loader import CampaignError, CampaignFileError, load_campaign
from flows.model import CHANNELS
from outreach.campaigns.audience_preview import AudiencePreview
from outreach.campaigns.commands import CampaignCommandError, create_campaign
from outreach.campaigns.drafts import revise_draft
from outreach.officials.accounts import acting
from outreach.survey.sampling import SampleError
from outreach.web.admin.campaign_form import document_of, fields_of
from outreach.web.admin.editor_layout import (
    PlacedError,
    editor_layout,
    field_id,
    placed_errors,
    said_after_path,
    with_option,
    with_question,
    without,
)
from outreach.web.admin.rendering import render
from outreach.web.admin.sessions import CSRF_FIELD, requires, signed_in
from outreach.web.keys import SERVICES
from storage.campaigns import CampaignRepository
from storage.db import read_session
from storage.tables import CampaignRecord

NEW = "/admin/new-campaign"
# The form's own fields, besides the campaign's.
TAB, ACTION, YAML_TEXT = "tab", "action", "yaml"
# The YAML the form was opened from when that is not the draft's kept one (the YAML tab's text, not
# saved yet): the form's values are written onto it, so its comments survive the switch.
BASE = "base"
OWN_FIELDS = (CSRF_FIELD, TAB, ACTION, YAML_TEXT, BASE)
STARTING_FIELDS = {"languages": "pl, en", "channels": "sms", "questions[0].id": "", "questions[0].type": "yesno"}


def add_editor_pages(admin: web.Application) -> None:
    admin.router.add_get("/new-campaign", new_campaign_page)
    admin.router.add_post("/new-campaign", new_campaign_submit)
    admin.router.add_get("/campaigns/{slug}/edit", edit_page)
    admin.router.add_post("/campaigns/{slug}/edit", edit_submit)


@requires("edit")
async def new_campaign_page(request: web.Request) -> web.StreamResponse:
    if request.query.get(TAB) == "yaml":
        return _yaml_tab(request, None, "", [])
    return _form_tab(request, None, dict(STARTING_FIELDS), [])


@requires("edit")
async def new_campaign_submit(request: web.Request) -> web.StreamResponse:
    return await _submitted(request, None)


@requires("edit")
async def edit_page(request: web.Request) -> web.StreamResponse:
    record = await _draft(request)
    flow = request.config_dict[SERVICES].definitions.flow(record)
    document = flow.model_dump(mode="json", exclude_unset=True)
    if request.query.get(TAB) == "yaml":
        return _yaml_tab(request, record, _yaml_of(record), [])
    return _form_tab(request, record, fields_of(document), [], audience=await _audience(request, record.id, flow))


@requires("edit")
async def edit_submit(request: web.Request) -> web.StreamResponse:
    return await _submitted(request, await _draft(request))


async def _draft(request: web.Request) -> CampaignRecord:
    async with read_session(request.config_dict[SERVICES].sessions) as session:
        record = await CampaignRepository(session).by_reference(request.match_info["slug"])
    if record is None:
        raise web.HTTPNotFound(text="No such campaign.")
    if record.status != "draft":
        raise web.HTTPConflict(text=f"The campaign is {record.status}: only a draft can be changed.")
    return record


async def _submitted(request: web.Request, record: CampaignRecord | None) -> web.StreamResponse:
    form = await request.post()
    action = str(form.get(ACTION, "save"))
    if form.get(TAB) == "yaml":
        return await _yaml_submitted(request, record, str(form.get(YAML_TEXT, "")), action)
    fields = {name: value for name, value in form.items() if name not in OWN_FIELDS and isinstance(value, str)}
    base = str(form.get(BASE, "")).replace("\r\n", "\n") or None
    changed = _changed(fields, action)
    if changed is not None:
        return _form_tab(request, record, changed, [], base=base)
    made = document_of(fields.items())
    if made.problems:
        problems = [CampaignError("form", 1, 1, problem.text, name, problem) for name, problem in made.problems.items()]
        return _form_tab(request, record, fields, problems, status=422, base=base)
    text = _written(base or (_yaml_of(record) if record and record.source is not None else None), made.document)
    try:
        flow = load_campaign(text)
    except CampaignFileError as refused:
        if action == "yaml":  # the YAML tab shows the text as it is, with its problems at their lines
            return _yaml_tab(request, record, text, refused.errors)
        return _form_tab(request, record, fields, refused.errors, status=422, base=base)
    if action == "yaml":
        return _yaml_tab(request, record, text, [])
    if action == "audience":  # counted as it stands, not saved
        audience = await _audience(request, record.id if record else None, flow)
        return _form_tab(request, record, fields, [], audience=audience, base=base)
    return await _saved(request, record, flow, text)


def _yaml_of(record: CampaignRecord) -> str:
    """The draft's YAML as last saved (its comments with it), or written anew from its definition when
    none was kept or it is not the definition stored (a campaign saved before sources were kept, or
    created through the API)."""
    if record.source is not None:
        try:
            kept = _definition(load_campaign(record.source))
        except CampaignFileError:
            kept = None
        if kept == record.definition:
            return record.source
    return campaign_yaml(record.definition)


def _written(previous: str | None, document: Mapping[str, Any]) -> str:
    """The form's campaign as YAML: written onto the YAML the form was opened from, so the comments on
    what the form left as it was stay (flows.campaign_text), when that says exactly the campaign that
    writing it anew says; else anew."""
    fresh = campaign_yaml(document)
    if previous is None:
        return fresh
    edited = edited_yaml(previous, document)
    try:
        same = _definition(load_campaign(edited)) == _definition(load_campaign(fresh))
    except CampaignFileError:
        same = False
    return edited if same else fresh


def _definition(flow: Campaign) -> dict[str, Any]:
    return flow.model_dump(mode="json", exclude_unset=True)  # as revise_draft stores it


def _changed(fields: dict[str, str], action: str) -> dict[str, str] | None:
    """The fields after an add or remove button; None for any other action."""
    verb, _, where = action.partition(":")
    numbers = [int(part) for part in where.split(":") if part.isdigit()]
    if verb == "refresh":  # a question's type changed: its fields are shown
        return fields
    if verb == "add_question":
        return with_question(fields)
    if verb == "remove_question" and len(numbers) == 1:
        return without(fields, "questions", numbers[0])
    if verb == "add_option" and len(numbers) == 1:
        return with_option(fields, numbers[0])
    if verb == "remove_option" and len(numbers) == 2:
        return without(fields, f"questions[{numbers[0]}].options", numbers[1])
    return None


async def _yaml_submitted(
    request: web.Request, record: CampaignRecord | None, text: str, action: str
) -> web.StreamResponse:
    text = text.replace("\r\n", "\n")
    try:
        flow = load_campaign(text, "yaml")
    except CampaignFileError as refused:
        return _yaml_tab(request, record, text, refused.errors, status=422)
    if action == "form":
        return _form_tab(request, record, fields_of(_definition(flow)), [], base=text)
    return await _saved(request, record, flow, text)


async def _saved(request: web.Request, record: CampaignRecord | None, flow: Campaign, text: str) -> web.StreamResponse:
    """Store the campaign, and `text`, the YAML it was read from, for the next edit."""
    services = request.config_dict[SERVICES]
    official = signed_in(request)
    notice = services.settings.privacy_notice()
    if record is None:
        record = await create_campaign(
            services.sessions, flow, clock=services.clock, actor=acting(official), notice=notice, source=text
        )
    else:
        try:
            record = await revise_draft(
                services.sessions,
                record.slug,
                flow,
                clock=services.clock,
                actor=acting(official),
                notice=notice,
                source=text,
            )
        except CampaignCommandError as refused:
            raise web.HTTPConflict(text=str(refused)) from None
    raise web.HTTPSeeOther(f"/admin/campaigns/{record.slug}/edit?saved=1")


async def _audience(request: web.Request, campaign_id: int | None, flow: Campaign) -> dict[str, Any]:
    """Whom a launch now would ask: the count, and a sample's allocation per stratum (a campaign not
    stored yet draws with its file's seed, or any: the counts are the same)."""
    services = request.config_dict[SERVICES]
    try:
        preview: AudiencePreview | None = await services.audience_preview(flow, campaign_id)
    except SampleError as error:
        return {"preview": None, "error": error}
    return {"preview": preview, "error": None}


def _base(request: web.Request, record: CampaignRecord | None) -> dict[str, Any]:
    return {
        "record": record,
        "action_url": NEW if record is None else f"/admin/campaigns/{record.slug}/edit",
        "saved": request.query.get("saved") == "1",
    }


def _form_tab(
    request: web.Request,
    record: CampaignRecord | None,
    fields: Mapping[str, str],
    errors: list[CampaignError],
    *,
    status: int = 200,
    audience: dict[str, Any] | None = None,
    base: str | None = None,
) -> web.Response:
    layout = editor_layout(fields)
    at_fields, general = placed_errors(errors, layout.names())
    context = _base(request, record) | {
        "tab": "form",
        "fields": fields,
        "layout": layout,
        "errors": at_fields,
        "general_errors": general,
        "field_id": field_id,
        "channels": CHANNELS,
        "audience": audience,
        "base": base,
    }
    return render("editor.html", request, context, status=status)


def _yaml_tab(
    request: web.Request, record: CampaignRecord | None, text: str, errors: list[CampaignError], *, status: int = 200
) -> web.Response:
    lines = text.splitlines()
    located = [
        {
            "line": error.line,
            "column": error.column,
            "problem": PlacedError(error.message, error.explanation, said_after_path(error)),
            "text": _line(lines, error.line),
        }
        for error in errors
    ]
    context = _base(request, record) | {"tab": "yaml", "yaml": text, "yaml_errors": located}
    return render("editor.html", request, context, status=status)


def _line(lines: list[str], number: int) -> str:
    return lines[number - 1] if 0 < number <= len(lines) else ""
